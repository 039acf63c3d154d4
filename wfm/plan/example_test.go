package plan_test

import (
	"fmt"

	"github.com/starpost/starpost/wfm/plan"
)

// The morning was twice as busy as forecast: the rest of the day is
// scaled up, by less than 2 because four intervals are little evidence
// (the prior), and the correction fades for intervals further ahead.
func ExampleReforecast() {
	forecast := []float64{10, 10, 10, 10, 10, 10, 10, 10}
	actual := []float64{20, 20, 20, 20}
	re, k := plan.Reforecast(forecast, actual, 4, plan.DefaultDamping())
	fmt.Printf("k = %.3f\n", k)
	for _, v := range re[4:] {
		fmt.Printf("%.2f ", v)
	}
	fmt.Println()
	// Output:
	// k = 1.667
	// 16.67 16.53 16.40 16.27
}
