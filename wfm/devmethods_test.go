package wfm

// devMethods are the methods TestDevWindow compares on development data
// (the 40 business days before the test window): the candidates, the
// selection with and without averaging the best two, and the
// turn-of-the-month ridge and local-level variants tried.
func devMethods() []Method {
	top2 := NewSelector()
	top2.Top = 2
	out := append(Candidates(), NewSelector(), top2)
	for _, ridge := range []float64{0, 0.1, 1} {
		r := NewMonthRegression()
		r.MonthRidge = ridge
		out = append(out, r)
	}
	lvl := NewMonthRegression()
	lvl.LevelAlpha = 0.1
	return append(out, lvl)
}
