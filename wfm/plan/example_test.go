package plan_test

import (
	"fmt"
	"time"

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

// A queue in New York plans local days: the day the clocks go back has
// 100 quarter-hours, and its 01:00–01:59 comes twice (wall-clock slots
// 4–7); a week with that day is 169 hours long.
func ExampleDayIn() {
	ny, _ := time.LoadLocation("America/New_York")
	d := plan.DayIn(time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC), ny)
	fmt.Println(d.Date, d.Start.Format(time.RFC3339), d.Len())
	fmt.Println(d.Wall(4), d.Wall(8), d.At(8).In(ny).Format("15:04 MST"))
	w0, w1 := plan.WeekOf(d.Start, ny)
	fmt.Println(w0.Format("Mon 2006-01-02"), w1.Sub(w0))
	// Output:
	// 2026-11-01 2026-11-01T04:00:00Z 100
	// 4 4 01:00 EST
	// Mon 2026-10-26 169h0m0s
}
