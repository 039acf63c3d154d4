package wfm

func devMethods() []Method {
	var ms []Method
	for _, a := range []float64{0, 0.1, 0.2, 0.3, 0.5} {
		for _, h := range []float64{40, 80} {
			r := NewRegression()
			r.Window, r.HalfLife, r.LevelAlpha = 100, h, a
			ms = append(ms, r)
		}
	}
	return ms
}
