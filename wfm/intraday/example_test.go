package intraday_test

import (
	"context"
	"fmt"
	"time"

	"github.com/starpost/starpost/wfm/intraday"
	"github.com/starpost/starpost/wfm/schedule"
)

// A surge afternoon: one agent was published for 09:00–17:00 at hourly
// intervals; the re-forecast needs a second agent 13:00–17:00. The board
// publishes one 4-hour open slot and the first eligible flexible agent to
// claim it gets it.
func Example() {
	p := &schedule.Problem{Required: make([]int, 24), IntervalMinutes: 60, Templates: []schedule.Template{{Name: "8h", Length: 8}}}
	cols, _ := p.Columns()
	published := []intraday.Assignment{{Agent: 0, Column: cols[9]}} // 09:00–17:00
	curve := make([]int, 24)
	for h := 9; h < 17; h++ {
		curve[h] = 1
		if h >= 13 {
			curve[h] = 2
		}
	}
	clock := func() time.Time { return time.Date(2026, 11, 11, 12, 0, 0, 0, time.UTC) }
	b, err := intraday.NewBoard(context.Background(), intraday.Config{
		Problem: p, Published: published, Curve: curve, From: 0,
		Agents: []schedule.Agent{
			{ID: "lin", Skills: []string{"chat"}},
			{ID: "mei", Skills: []string{"voice"}},
			{ID: "tao", Skills: []string{"chat"}, Available: []schedule.Window{{Start: 12, End: 20}}},
		},
		Rules: schedule.Rules{MinRest: 11, IntervalsPerDay: 24, Skill: "chat"},
		Flex:  []schedule.Template{{Name: "flex-4h", Length: 4}},
		Now:   clock,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, g := range b.Understaffed() {
		fmt.Printf("%02d:00 needs %d, has %d\n", g.Interval, g.Required, g.Staffed)
	}
	slot := b.Open()[0]
	fmt.Printf("open slot %d: %s %02d:00–%02d:00\n", slot.ID, slot.Template, slot.Start, slot.End)
	fmt.Println("mei:", b.Claim("mei", slot.ID) != nil)
	fmt.Println("tao:", b.Claim("tao", slot.ID) == nil)
	fmt.Println("open left:", len(b.Open()), "rules hold:", b.Check() == nil)
	// Output:
	// 13:00 needs 2, has 1
	// 14:00 needs 2, has 1
	// 15:00 needs 2, has 1
	// 16:00 needs 2, has 1
	// open slot 1: flex-4h 13:00–17:00
	// mei: true
	// tao: true
	// open left: 0 rules hold: true
}
