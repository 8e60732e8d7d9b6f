package json

import (
	"context"
	"testing"

	"github.com/binlake/binlake/converter/internal/convtest"
)

// FuzzDecode feeds arbitrary bodies to Decode: it must not panic, and what it
// accepts must survive an encode/decode round trip unchanged.
func FuzzDecode(f *testing.F) {
	c := New()
	for _, ev := range convtest.Events(convtest.AllKinds())[:4] {
		body, err := c.Encode(context.Background(), "t", ev)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(body)
	}
	f.Add([]byte(`{"schema":{"database":"d","name":"t","version":1,"columns":[{"name":"a","kind":"int64","optional":true}]},"after":{"a":9007199254740993},"op":"c"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		ev, err := c.Decode(context.Background(), "t", body)
		if err != nil {
			return
		}
		again, err := c.Encode(context.Background(), "t", ev)
		if err != nil {
			t.Fatalf("re-encoding a decoded event: %v", err)
		}
		back, err := c.Decode(context.Background(), "t", again)
		if err != nil {
			t.Fatalf("decoding a re-encoded event: %v\n%s", err, again)
		}
		if d := convtest.EqualEvents(ev, back); d != "" {
			t.Fatalf("round trip: %s\n%s", d, again)
		}
	})
}
