package draft_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/starpost/starpost/draft"
)

// Draft a reply with a local OpenAI-compatible server (here a stand-in
// that always answers the same).
func Example() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"choices":[{"message":{"role":"assistant","content":"Refunds arrive within 3 working days [1]."}}]}`)
	}))
	defer srv.Close()
	w := &draft.Writer{KB: fakeKB{}, LLM: &draft.OpenAI{URL: srv.URL + "/v1", Model: "qwen2.5:7b-instruct"}}
	d, err := w.Write(context.Background(), "ws_1", []draft.Turn{{Role: "customer", Text: "When will I get my refund?"}})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(d.Text)
	fmt.Println(d.Citations[0].Title)
	// Output:
	// Refunds arrive within 3 working days [1].
	// When will I get my refund?
}
