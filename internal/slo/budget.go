package slo

import (
	"math/big"
	"math/bits"
)

// The comparisons below decide alerts and freezes, so they are exact:
// products of int64 counts are compared in 128 bits, never as floats.

// mulCmp compares a·b with c·d for non-negative a, b, c, d.
func mulCmp(a, b, c, d int64) int {
	h1, l1 := bits.Mul64(uint64(a), uint64(b))
	h2, l2 := bits.Mul64(uint64(c), uint64(d))
	switch {
	case h1 != h2:
		if h1 < h2 {
			return -1
		}
		return 1
	case l1 != l2:
		if l1 < l2 {
			return -1
		}
		return 1
	}
	return 0
}

// atLeast reports whether good/total ≥ f.
func atLeast(good, total int64, f Fraction) bool { return mulCmp(good, f.Den, f.Num, total) >= 0 }

// budgetLeft reports whether counts leave some budget: bad/total < 1 −
// objective, so budget remaining > 0. No calls leave the whole budget.
func budgetLeft(c Counts, budget Fraction) bool {
	return c.Total == 0 || mulCmp(c.Bad(), budget.Den, budget.Num, c.Total) < 0
}

// burnsFaster reports whether the burn rate of c exceeds factor:
// (bad/total) / budget > factor, i.e. bad·budget.Den·factor.Den >
// factor.Num·budget.Num·total. Windows without calls never burn.
func burnsFaster(c Counts, budget, factor Fraction) bool {
	if c.Total == 0 {
		return false
	}
	// budget.Den ≤ 1e12 and factor.Den ≤ 100 keep the constant products
	// inside int64.
	return mulCmp(c.Bad(), budget.Den*factor.Den, factor.Num*budget.Num, c.Total) > 0
}

// sli returns good/total exactly, nil without calls.
func sli(c Counts) *big.Rat {
	if c.Total == 0 {
		return nil
	}
	return big.NewRat(c.Good, c.Total)
}

// remaining returns 1 − (bad/total)/budget exactly: 1 without calls.
func remaining(c Counts, budget Fraction) *big.Rat {
	if c.Total == 0 {
		return big.NewRat(1, 1)
	}
	spent := new(big.Rat).SetFrac(
		new(big.Int).Mul(big.NewInt(c.Bad()), big.NewInt(budget.Den)),
		new(big.Int).Mul(big.NewInt(c.Total), big.NewInt(budget.Num)))
	return spent.Sub(big.NewRat(1, 1), spent)
}

// burnRate returns (bad/total)/budget, 0 without calls.
func burnRate(c Counts, budget Fraction) *big.Rat {
	if c.Total == 0 {
		return new(big.Rat)
	}
	return new(big.Rat).SetFrac(
		new(big.Int).Mul(big.NewInt(c.Bad()), big.NewInt(budget.Den)),
		new(big.Int).Mul(big.NewInt(c.Total), big.NewInt(budget.Num)))
}

func ratFloat(r *big.Rat) float64 {
	f, _ := r.Float64()
	return f
}
