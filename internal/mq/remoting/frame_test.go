package remoting

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
)

func TestEncodeLayout(t *testing.T) {
	c := &Command{Code: 17, Language: "GO", Version: 497, Opaque: 42, ExtFields: map[string]string{"topic": "t"}, Body: []byte("xyz")}
	frame, err := Encode(c)
	if err != nil {
		t.Fatal(err)
	}
	total := binary.BigEndian.Uint32(frame[0:])
	if int(total) != len(frame)-4 {
		t.Fatalf("length field = %d, want %d", total, len(frame)-4)
	}
	mark := binary.BigEndian.Uint32(frame[4:])
	if typ := byte(mark >> 24); typ != SerializeJSON {
		t.Fatalf("serialize type = %d, want JSON (0)", typ)
	}
	hlen := int(mark & 0xFFFFFF)
	var h map[string]any
	if err := json.Unmarshal(frame[8:8+hlen], &h); err != nil {
		t.Fatalf("header is not JSON: %v", err)
	}
	if h["code"] != float64(17) || h["opaque"] != float64(42) || h["language"] != "GO" || h["flag"] != float64(0) {
		t.Errorf("header = %v", h)
	}
	if ext, _ := h["extFields"].(map[string]any); ext["topic"] != "t" {
		t.Errorf("extFields = %v", h["extFields"])
	}
	if body := frame[8+hlen:]; string(body) != "xyz" {
		t.Errorf("body = %q, want xyz", body)
	}
}

func TestRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		cmd  Command
	}{
		{"request with body", Command{Code: 320, Language: "GO", Version: 1, Opaque: 7, ExtFields: map[string]string{"a": "g", "b": "topic"}, Body: []byte{0, 1, 2}}},
		{"response without body", Command{Code: 0, Language: "JAVA", Version: 497, Opaque: 8, Flag: flagResponse, Remark: "ok"}},
		{"no ext fields", Command{Code: 106, Language: "GO", Opaque: -5}},
		{"unicode remark", Command{Code: 1, Language: "GO", Remark: "fehler: ü\n\"quoted\""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			frame, err := Encode(&tt.cmd)
			if err != nil {
				t.Fatal(err)
			}
			raw, err := ReadFrame(bytes.NewReader(frame))
			if err != nil {
				t.Fatal(err)
			}
			got, err := Decode(raw)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(*got, tt.cmd) {
				t.Errorf("round trip = %+v, want %+v", *got, tt.cmd)
			}
			if got.IsResponse() != (tt.cmd.Flag&flagResponse != 0) {
				t.Errorf("IsResponse = %v", got.IsResponse())
			}
		})
	}
}

// binaryHeader builds a RocketMQ-serialized header the way Java's
// RocketMQSerializable writes it.
func binaryHeader(code int16, lang byte, version int16, opaque, flag int32, remark string, ext [][2]string) []byte {
	var b bytes.Buffer
	_ = binary.Write(&b, binary.BigEndian, code)
	b.WriteByte(lang)
	_ = binary.Write(&b, binary.BigEndian, version)
	_ = binary.Write(&b, binary.BigEndian, opaque)
	_ = binary.Write(&b, binary.BigEndian, flag)
	_ = binary.Write(&b, binary.BigEndian, int32(len(remark)))
	b.WriteString(remark)
	var e bytes.Buffer
	for _, kv := range ext {
		_ = binary.Write(&e, binary.BigEndian, int16(len(kv[0])))
		e.WriteString(kv[0])
		_ = binary.Write(&e, binary.BigEndian, int32(len(kv[1])))
		e.WriteString(kv[1])
	}
	_ = binary.Write(&b, binary.BigEndian, int32(e.Len()))
	b.Write(e.Bytes())
	return b.Bytes()
}

func withMark(typ byte, header, body []byte) []byte {
	out := make([]byte, 4, 4+len(header)+len(body))
	binary.BigEndian.PutUint32(out, uint32(typ)<<24|uint32(len(header)))
	out = append(out, header...)
	return append(out, body...)
}

func TestDecodeBinaryHeader(t *testing.T) {
	h := binaryHeader(0, 0, 497, 99, 1, "done", [][2]string{{"queueId", "3"}, {"queueOffset", "1234"}})
	c, err := Decode(withMark(SerializeRocketMQ, h, []byte("body")))
	if err != nil {
		t.Fatal(err)
	}
	want := Command{Code: 0, Language: "JAVA", Version: 497, Opaque: 99, Flag: 1, Remark: "done",
		ExtFields: map[string]string{"queueId": "3", "queueOffset": "1234"}, Body: []byte("body")}
	if !reflect.DeepEqual(*c, want) {
		t.Fatalf("Decode = %+v, want %+v", *c, want)
	}
	if n, err := c.ExtInt64("queueOffset"); err != nil || n != 1234 {
		t.Errorf("ExtInt64 = %d, %v", n, err)
	}
	if _, err := c.ExtInt64("missing"); err == nil {
		t.Error("ExtInt64 of a missing field gave no error")
	}
}

func TestDecodeRejectsBadFrames(t *testing.T) {
	good := binaryHeader(0, 0, 1, 1, 1, "", [][2]string{{"k", "v"}})
	tests := []struct {
		name  string
		frame []byte
	}{
		{"too short", []byte{0, 0}},
		{"header longer than frame", withMark(SerializeJSON, nil, nil)[:4:4]},
		{"unknown serialize type", withMark(7, []byte("{}"), nil)},
		{"bad json", withMark(SerializeJSON, []byte("{"), nil)},
		{"truncated binary header", withMark(SerializeRocketMQ, good[:10], nil)},
		{"truncated ext field", withMark(SerializeRocketMQ, good[:len(good)-1], nil)},
	}
	// "header longer than frame": a mark claiming 100 header bytes.
	tests[1].frame = []byte{0, 0, 0, 100, '{', '}'}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if c, err := Decode(tt.frame); err == nil {
				t.Fatalf("Decode accepted a bad frame: %+v", c)
			}
		})
	}
}

func TestReadFrameLimits(t *testing.T) {
	var big [4]byte
	binary.BigEndian.PutUint32(big[:], MaxFrameSize+1)
	if _, err := ReadFrame(bytes.NewReader(big[:])); !errors.Is(err, ErrFrameTooLarge) {
		t.Errorf("oversized frame: err = %v, want ErrFrameTooLarge", err)
	}
	var tiny [4]byte
	binary.BigEndian.PutUint32(tiny[:], 2)
	if _, err := ReadFrame(bytes.NewReader(append(tiny[:], 0, 0))); err == nil {
		t.Error("frame shorter than its header length field accepted")
	}
	var short [4]byte
	binary.BigEndian.PutUint32(short[:], 10)
	if _, err := ReadFrame(bytes.NewReader(append(short[:], 1, 2, 3))); err == nil {
		t.Error("truncated frame accepted")
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(withMark(SerializeRocketMQ, binaryHeader(1, 9, 2, 3, 0, "r", [][2]string{{"a", "b"}}), []byte("x")))
	frame, _ := Encode(&Command{Code: 5, ExtFields: map[string]string{"k": "v"}, Body: []byte("b")})
	f.Add(frame[4:])
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := Decode(b)
		if err != nil {
			return
		}
		// whatever decodes must encode again
		if _, err := Encode(c); err != nil && !errors.Is(err, ErrFrameTooLarge) {
			t.Fatalf("re-encoding a decoded command: %v", err)
		}
	})
}
