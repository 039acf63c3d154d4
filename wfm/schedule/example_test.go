package schedule_test

import (
	"context"
	"fmt"
	"time"

	"github.com/starpost/starpost/wfm/schedule"
)

func ExampleSolve() {
	// One day in 2-hour intervals: two agents needed from 08:00 to 20:00.
	p := &schedule.Problem{
		Required:        []int{0, 0, 0, 0, 2, 2, 2, 2, 2, 2, 0, 0},
		IntervalMinutes: 120,
		Templates: []schedule.Template{
			{Name: "half day", Length: 3},                // 6 h, 6 paid hours
			{Name: "long day", Length: 6, PaidHours: 11}, // 12 h for 11 paid hours
		},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	sol, err := schedule.Solve(ctx, p, schedule.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, s := range sol.Shifts {
		fmt.Printf("%d × %s from interval %d\n", s.Agents, p.Templates[s.Column.Template].Name, s.Column.Start)
	}
	fmt.Printf("cost %.1f paid hours, lower bound %.1f, gap %.1f %%\n", sol.Cost, sol.LowerBound, 100*sol.Gap)
	// Output:
	// 2 × long day from interval 4
	// cost 22.0 paid hours, lower bound 22.0, gap 0.0 %
}
