package text

// Neighbours is an inverted index of labelled, l2-normalised training
// vectors. Nearest gives, per class, the cosine of the closest training
// vector: a nearest-neighbour view of the data that complements a linear
// model (a query phrased like one training question scores high for its
// class even when the class's weights do not favour it).
type Neighbours struct {
	Classes int
	Labels  []int32 // class of each indexed vector
	post    map[int32][]nbPosting
	byClass [][]SparseVector
}

type nbPosting struct {
	doc int32
	val float32
}

// NewNeighbours indexes xs (l2-normalised) with their classes ys in
// [0, classes).
func NewNeighbours(xs []SparseVector, ys []int, classes int) *Neighbours {
	n := &Neighbours{Classes: classes, Labels: make([]int32, len(xs)), post: map[int32][]nbPosting{}, byClass: make([][]SparseVector, classes)}
	for i, x := range xs {
		n.Labels[i] = int32(ys[i])
		n.byClass[ys[i]] = append(n.byClass[ys[i]], x)
		for k, id := range x.Idx {
			n.post[id] = append(n.post[id], nbPosting{doc: int32(i), val: x.Val[k]})
		}
	}
	return n
}

// Nearest returns, for every class, the highest cosine between x and an
// indexed vector of that class (0 for a class none of whose vectors shares a
// feature with x).
func (n *Neighbours) Nearest(x SparseVector) []float64 {
	acc := make([]float64, len(n.Labels))
	for k, id := range x.Idx {
		v := float64(x.Val[k])
		for _, p := range n.post[id] {
			acc[p.doc] += v * float64(p.val)
		}
	}
	out := make([]float64, n.Classes)
	for d, a := range acc {
		if c := n.Labels[d]; a > out[c] {
			out[c] = a
		}
	}
	return out
}

// NearestIn returns the highest cosine between x and an indexed vector of
// class c alone: cheaper than Nearest when one class is wanted.
func (n *Neighbours) NearestIn(x SparseVector, c int) float64 {
	best := 0.0
	for _, y := range n.byClass[c] {
		best = max(best, x.Dot(y))
	}
	return best
}
