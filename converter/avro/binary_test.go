package avro

import (
	"bytes"
	"context"
	"encoding/binary"
	"strings"
	"testing"

	"github.com/binlake/binlake/converter/internal/convtest"
	"github.com/binlake/binlake/schema/avroschema"
)

// TestDirectPathMatchesGoavro checks that the direct binary path writes the
// very bytes goavro's codec writes, and that both decoders agree.
func TestDirectPathMatchesGoavro(t *testing.T) {
	ctx := context.Background()
	reg := newRegistry(t)
	direct := newConverter(t, reg, Options{})
	generic := newConverter(t, reg, Options{Goavro: true})
	for i, ev := range convtest.Events(convtest.AllKinds()) {
		a, err := direct.Encode(ctx, "t", ev)
		if err != nil {
			t.Fatal(err)
		}
		b, err := generic.Encode(ctx, "t", ev)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a, b) {
			t.Fatalf("event %d: direct %x\ngoavro %x", i, a, b)
		}
		for name, c := range map[string]*Converter{"direct": direct, "goavro": generic} {
			got, err := c.Decode(ctx, "t", a)
			if err != nil {
				t.Fatalf("%s decode of event %d: %v", name, i, err)
			}
			if d := convtest.EqualEvents(ev, got); d != "" {
				t.Errorf("%s decode of event %d: %s", name, i, d)
			}
		}
	}
	id, _ := SchemaIDOf(mustEncode(t, direct))
	rc, err := direct.readerFor(ctx, id)
	if err != nil || !rc.direct {
		t.Errorf("binlake's own writer schema is not read by the direct path (%v)", err)
	}
}

func mustEncode(t *testing.T, c *Converter) []byte {
	t.Helper()
	b, err := c.Encode(context.Background(), "t", convtest.Events(convtest.AllKinds())[0])
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestForeignWriterSchema decodes a message whose writer schema binlake did
// not generate (an extra field in the envelope): goavro reads it.
func TestForeignWriterSchema(t *testing.T) {
	ctx := context.Background()
	reg := newRegistry(t)
	tbl := convtest.AllKinds()
	s, err := avroschema.FromTable(tbl, "")
	if err != nil {
		t.Fatal(err)
	}
	foreign := strings.Replace(s.Envelope, `{"name":"op","type":"string"}`, `{"name":"op","type":"string"},{"name":"extra","type":"int","default":0}`, 1)
	if foreign == s.Envelope {
		t.Fatal("test schema edit did not apply")
	}
	id, err := reg.Register(ctx, "foreign-value", foreign)
	if err != nil {
		t.Fatal(err)
	}
	codec, err := physicalCodec(foreign)
	if err != nil {
		t.Fatal(err)
	}
	c := newConverter(t, reg, Options{})
	tc, err := c.codecFor(tbl)
	if err != nil {
		t.Fatal(err)
	}
	ev := convtest.Events(tbl)[8] // an update with both images
	datum, err := tc.envelopeDatum(ev)
	if err != nil {
		t.Fatal(err)
	}
	datum["extra"] = int32(5)
	body := make([]byte, 5)
	binary.BigEndian.PutUint32(body[1:], uint32(id))
	if body, err = codec.BinaryFromNative(body, datum); err != nil {
		t.Fatal(err)
	}
	got, err := c.Decode(ctx, "foreign", body)
	if err != nil {
		t.Fatal(err)
	}
	if d := convtest.EqualEvents(ev, got); d != "" {
		t.Error(d)
	}
	if rc, _ := c.readerFor(ctx, id); rc.direct {
		t.Error("a foreign schema was marked for the direct path")
	}
}
