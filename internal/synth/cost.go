package synth

import (
	"fmt"
	"path/filepath"

	"github.com/scrolluniversity/platform/internal/cost"
)

// Cost estimates the stack's monthly cost from its resources and the
// repository's price table; an unpriced instance type or class is an
// error, a region without prices a refused estimate (cost.ForRegion).
func Cost(res *Result) (cost.Estimate, error) {
	prices, err := cost.Table()
	if err != nil {
		return cost.Estimate{}, err
	}
	if res.Config != nil {
		if e, refused := cost.ForRegion(res.Stack, res.Config.Region, prices); refused {
			return e, nil
		}
	}
	in := make([]cost.Resource, 0, len(res.Resources))
	for _, r := range res.Resources {
		in = append(in, cost.Resource{Type: r.Type, Name: r.Name, Inputs: r.Plain()})
	}
	return cost.Compute(res.Stack, prices, in)
}

// WriteCost writes cost.json.
func WriteCost(e cost.Estimate, dir string) error {
	return writeJSON(filepath.Join(dir, "cost.json"), e)
}

// CostLine is the summary's line about cost.
func CostLine(e cost.Estimate) string {
	if e.Refused != "" {
		return "cost: not estimated: " + e.Refused + "\n"
	}
	return fmt.Sprintf("cost: %.0f-%.0f %s a month at minimum and maximum scale (%s prices of %s; cost.json)\n", e.Min, e.Max, e.Currency, e.Region, e.Prices[:10])
}
