package wfm

func devMethods() []Method {
	r := NewRegression()
	r2 := r
	r2.NoHoliday = true
	r3 := r
	r3.NoAR = true
	r4 := r
	r4.Window, r4.HalfLife = 100, 40
	r5 := r
	r5.ProfileWeeks = 4
	return []Method{SeasonalNaive{}, WeekMean{Weeks: 4}, WeekMean{Weeks: 8}, r, r2, r3, r4, r5, Combination{Members: []Method{r, WeekMean{Weeks: 4}}}}
}
