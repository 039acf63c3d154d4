package wfm

// devMethods are the methods TestDevWindow compares on development data
// (the 40 business days before the test window).
func devMethods() []Method {
	s20 := NewSelector()
	s20.Window = 20
	return append(Candidates(), NewSelector(), s20)
}
