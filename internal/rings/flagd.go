package rings

import (
	"encoding/json"
	"fmt"

	"github.com/stride-oss/stride/internal/delivery"
)

// FlagdSchema is the JSON schema a flagd flag definition declares.
const FlagdSchema = "https://flagd.dev/schema/v0/flags.json"

// Rollout is what the flagd export needs of one service: its rings, how
// far the release being rolled out has got (from Locate), and optionally
// which share of users, in percent, each ring serves when the caller of
// the flag gives no ring (nil: an equal split).
type Rollout struct {
	Config   Config
	Position Position
	Shares   map[string]int
}

// FlagdFile is an OpenFeature flagd flag definition file.
type FlagdFile struct {
	Schema string               `json:"$schema"`
	Flags  map[string]FlagdFlag `json:"flags"`
}

// FlagdFlag is one flag of a flagd file. Targeting is a JSON Logic rule
// that returns a variant name.
type FlagdFlag struct {
	State          string         `json:"state"`
	Variants       map[string]any `json:"variants"`
	DefaultVariant string         `json:"defaultVariant"`
	Targeting      map[string]any `json:"targeting,omitempty"`
	Metadata       map[string]any `json:"metadata,omitempty"`
}

// Reached returns the furthest ring a commit is running in (soaking or
// soaked), or "" when it runs in none.
func (p Position) Reached() string {
	reached := ""
	for _, r := range p.Rings {
		if r.State == StateSoaking || r.State == StateSoaked {
			reached = r.Ring
		}
	}
	return reached
}

// Flagd exports each service's rings as two flagd flags, so code can ask
// OpenFeature where a user is and whether the release has reached them:
//
//   - "<service>.ring" (string): the ring of the evaluation context's "ring"
//     attribute when it names one, else a ring picked by flagd's
//     fractional split of targetingKey in proportion to the shares, which
//     keeps each user in one ring;
//   - "<service>.released" (boolean): on when that ring is one the release
//     has reached, so a feature shipped with the release is switched on
//     ring by ring as the release is promoted.
func Flagd(rollouts []Rollout) ([]byte, error) {
	f := FlagdFile{Schema: FlagdSchema, Flags: map[string]FlagdFlag{}}
	for _, r := range rollouts {
		c := r.Config
		if err := c.Validate(); err != nil {
			return nil, err
		}
		shares, err := sharesOf(c, r.Shares)
		if err != nil {
			return nil, err
		}
		names := make([]any, len(c.Rings))
		variants := map[string]any{}
		// Both flags bucket users by targetingKey alone (flagd's default
		// would mix in the flag key), and the rings reached are always the
		// first ones, so a user split into a ring by one flag falls into
		// that ring's share of the other.
		bucketBy := map[string]any{"var": "targetingKey"}
		split := []any{bucketBy}
		var released []any
		var reachedNames, notReached []any
		reached := c.Index(r.Position.Reached())
		on := 0
		for i, ring := range c.Rings {
			names[i] = ring.Name
			variants[ring.Name] = ring.Name
			split = append(split, []any{ring.Name, shares[i]})
			if i <= reached {
				reachedNames = append(reachedNames, ring.Name)
				on += shares[i]
			} else {
				notReached = append(notReached, ring.Name)
			}
		}
		released = []any{bucketBy, []any{"on", on}, []any{"off", 100 - on}}
		ringAttr := map[string]any{"var": "ring"}
		inList := func(list []any) map[string]any {
			if list == nil {
				list = []any{}
			}
			return map[string]any{"in": []any{ringAttr, list}}
		}
		meta := map[string]any{"service": c.Service, "sha": r.Position.SHA, "reached": r.Position.Reached()}
		if _, dup := f.Flags[c.Service+".ring"]; dup {
			return nil, delivery.FieldError("service", "service %s is exported twice", c.Service)
		}
		f.Flags[c.Service+".ring"] = FlagdFlag{
			State:          "ENABLED",
			Variants:       variants,
			DefaultVariant: productionRing(c),
			Targeting: map[string]any{"if": []any{
				inList(names), ringAttr,
				map[string]any{"fractional": split},
			}},
			Metadata: meta,
		}
		f.Flags[c.Service+".released"] = FlagdFlag{
			State:          "ENABLED",
			Variants:       map[string]any{"on": true, "off": false},
			DefaultVariant: "off",
			Targeting: map[string]any{"if": []any{
				inList(reachedNames), "on",
				inList(notReached), "off",
				map[string]any{"fractional": released},
			}},
			Metadata: meta,
		}
	}
	out, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode flagd flags: %w", err)
	}
	return append(out, '\n'), nil
}

// productionRing is the ring a user of unknown ring gets by default: the
// production ring, else the last.
func productionRing(c Config) string {
	for _, r := range c.Rings {
		if r.Production {
			return r.Name
		}
	}
	return c.Rings[len(c.Rings)-1].Name
}

// sharesOf returns each ring's share of users in percent, adding up to 100.
func sharesOf(c Config, given map[string]int) ([]int, error) {
	out := make([]int, len(c.Rings))
	if given == nil {
		for i := range out {
			out[i] = 100 / len(out)
		}
		out[len(out)-1] = 100 - (len(out)-1)*(100/len(out))
		return out, nil
	}
	sum := 0
	for name, v := range given {
		if c.Index(name) < 0 {
			return nil, delivery.FieldError("shares."+name, "%s is not a ring of %s", name, c.Service)
		}
		if v < 0 {
			return nil, delivery.FieldError("shares."+name, "%d is negative", v)
		}
		sum += v
	}
	if sum != 100 {
		return nil, delivery.FieldError("shares", "the shares of %s add up to %d, not 100", c.Service, sum)
	}
	for i, r := range c.Rings {
		out[i] = given[r.Name]
	}
	return out, nil
}
