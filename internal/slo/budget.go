package slo

import (
	"math"
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

// burnFloat returns (bad/total)/budget for display, 0 without calls. Alerts
// compare with burnsFaster, which is exact.
func burnFloat(c Counts, budget Fraction) float64 {
	if c.Total == 0 {
		return 0
	}
	return float64(c.Bad()) * float64(budget.Den) / (float64(c.Total) * float64(budget.Num))
}

func ratFloat(r *big.Rat) float64 {
	f, _ := r.Float64()
	return f
}

// product multiplies factors, ok false on int64 overflow.
func product(factors ...int64) (int64, bool) {
	p := int64(1)
	for _, f := range factors {
		neg := (p < 0) != (f < 0)
		hi, lo := bits.Mul64(uint64(abs(p)), uint64(abs(f)))
		if hi != 0 || lo > math.MaxInt64 {
			return 0, false
		}
		p = int64(lo)
		if neg {
			p = -p
		}
	}
	return p, true
}

func abs(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}

// quoFloat returns Π nums / Π dens rounded once to the nearest float64, as
// big.Rat would, without allocating when the products fit in 53 bits (a
// float64 holds those exactly, so one division rounds once).
func quoFloat(nums, dens []int64) float64 {
	n, ok1 := product(nums...)
	d, ok2 := product(dens...)
	if ok1 && ok2 && abs(n) <= 1<<53 && abs(d) <= 1<<53 && d != 0 {
		return float64(n) / float64(d)
	}
	rn, rd := big.NewInt(1), big.NewInt(1)
	for _, x := range nums {
		rn.Mul(rn, big.NewInt(x))
	}
	for _, x := range dens {
		rd.Mul(rd, big.NewInt(x))
	}
	return ratFloat(new(big.Rat).SetFrac(rn, rd))
}
