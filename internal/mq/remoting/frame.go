// Package remoting speaks RocketMQ's remoting protocol: length-prefixed
// frames carrying a header (JSON or RocketMQ's binary encoding) and a body,
// with requests and responses matched by an opaque id. binlake uses it for
// the broker and name server requests rocketmq-client-go does not expose
// (topic attributes, routes, pulls from explicit offsets).
package remoting

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// Serialize types carried in the high byte of the header length.
const (
	SerializeJSON     byte = 0
	SerializeRocketMQ byte = 1
)

// MaxFrameSize bounds a frame read from the network (the broker's default
// maximum message size is 4 MiB; pulls return at most a few of those).
const MaxFrameSize = 64 << 20

// flagResponse marks a response command; flagOneway a one-way request.
const (
	flagResponse = 1 << 0
	flagOneway   = 1 << 1
)

// protocolVersion is the client version binlake announces (RocketMQ
// V5_3_3); the broker uses it only to pick compatible encodings.
const protocolVersion = 497

// ErrFrameTooLarge is returned for frames longer than MaxFrameSize.
var ErrFrameTooLarge = errors.New("remoting frame exceeds the maximum size")

// Command is one remoting request or response.
type Command struct {
	Code      int16
	Language  string
	Version   int16
	Opaque    int32
	Flag      int32
	Remark    string
	ExtFields map[string]string
	Body      []byte
}

// NewRequest returns a request command with the given code and header
// fields; the client assigns the opaque id.
func NewRequest(code int16, ext map[string]string, body []byte) *Command {
	return &Command{Code: code, Language: "GO", Version: protocolVersion, ExtFields: ext, Body: body}
}

// IsResponse reports whether c is a response.
func (c *Command) IsResponse() bool { return c.Flag&flagResponse != 0 }

// IsOneway reports whether c is a one-way request (no response expected).
func (c *Command) IsOneway() bool { return c.Flag&flagOneway != 0 }

// Ext returns the header field key ("" when absent).
func (c *Command) Ext(key string) string { return c.ExtFields[key] }

// ExtInt64 parses the header field key as an integer.
func (c *Command) ExtInt64(key string) (int64, error) {
	v, ok := c.ExtFields[key]
	if !ok {
		return 0, fmt.Errorf("reading header field %q: missing in response code %d", key, c.Code)
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("parsing header field %q: %w", key, err)
	}
	return n, nil
}

// jsonHeader is the JSON header layout of RocketMQ's RemotingSerializable.
type jsonHeader struct {
	Code      int16             `json:"code"`
	Language  string            `json:"language"`
	Version   int16             `json:"version"`
	Opaque    int32             `json:"opaque"`
	Flag      int32             `json:"flag"`
	Remark    string            `json:"remark,omitempty"`
	ExtFields map[string]string `json:"extFields,omitempty"`
	// SerializeTypeCurrentRPC is what Java writes; it is informational.
	SerializeTypeCurrentRPC string `json:"serializeTypeCurrentRPC,omitempty"`
}

// Encode returns the whole frame of c: a 4-byte big-endian length of what
// follows, a 4-byte header length whose high byte is the serialize type
// (JSON), the JSON header, and the body.
func Encode(c *Command) ([]byte, error) {
	lang := c.Language
	if lang == "" {
		lang = "GO"
	}
	header, err := json.Marshal(jsonHeader{
		Code: c.Code, Language: lang, Version: c.Version, Opaque: c.Opaque, Flag: c.Flag,
		Remark: c.Remark, ExtFields: c.ExtFields, SerializeTypeCurrentRPC: "JSON",
	})
	if err != nil {
		return nil, fmt.Errorf("encoding remoting header: %w", err)
	}
	if len(header) > 0xFFFFFF {
		return nil, fmt.Errorf("encoding remoting header: %d bytes exceed the 24-bit length", len(header))
	}
	total := 4 + len(header) + len(c.Body)
	if total > MaxFrameSize {
		return nil, ErrFrameTooLarge
	}
	frame := make([]byte, 4+total)
	binary.BigEndian.PutUint32(frame[0:], uint32(total))
	binary.BigEndian.PutUint32(frame[4:], uint32(SerializeJSON)<<24|uint32(len(header)))
	copy(frame[8:], header)
	copy(frame[8+len(header):], c.Body)
	return frame, nil
}

// ReadFrame reads one frame from r and returns it without its leading
// length field.
func ReadFrame(r io.Reader) ([]byte, error) {
	var lenBuf [4]byte
	if _, err := io.ReadFull(r, lenBuf[:]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(lenBuf[:])
	if n > MaxFrameSize {
		return nil, ErrFrameTooLarge
	}
	if n < 4 {
		return nil, fmt.Errorf("reading remoting frame: length %d is shorter than its header length field", n)
	}
	frame := make([]byte, n)
	if _, err := io.ReadFull(r, frame); err != nil {
		return nil, fmt.Errorf("reading remoting frame body: %w", err)
	}
	return frame, nil
}

// Decode parses a frame without its leading length field (as returned by
// ReadFrame). Both serialize types are understood.
func Decode(frame []byte) (*Command, error) {
	if len(frame) < 4 {
		return nil, fmt.Errorf("decoding remoting frame: %d bytes, need at least 4", len(frame))
	}
	mark := binary.BigEndian.Uint32(frame)
	typ := byte(mark >> 24)
	hlen := int(mark & 0xFFFFFF)
	if hlen > len(frame)-4 {
		return nil, fmt.Errorf("decoding remoting frame: header length %d exceeds the frame (%d bytes)", hlen, len(frame)-4)
	}
	header := frame[4 : 4+hlen]
	var (
		c   *Command
		err error
	)
	switch typ {
	case SerializeJSON:
		c, err = decodeJSONHeader(header)
	case SerializeRocketMQ:
		c, err = decodeBinaryHeader(header)
	default:
		return nil, fmt.Errorf("decoding remoting frame: unknown serialize type %d", typ)
	}
	if err != nil {
		return nil, err
	}
	if body := frame[4+hlen:]; len(body) > 0 {
		c.Body = body
	}
	return c, nil
}

func decodeJSONHeader(b []byte) (*Command, error) {
	var h jsonHeader
	if err := json.Unmarshal(b, &h); err != nil {
		return nil, fmt.Errorf("decoding JSON remoting header: %w", err)
	}
	return &Command{
		Code: h.Code, Language: h.Language, Version: h.Version, Opaque: h.Opaque, Flag: h.Flag,
		Remark: h.Remark, ExtFields: h.ExtFields,
	}, nil
}

// binaryReader reads big-endian fields and remembers the first error.
type binaryReader struct {
	b   []byte
	err error
}

func (r *binaryReader) take(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || n > len(r.b) {
		r.err = fmt.Errorf("decoding RocketMQ remoting header: need %d bytes, have %d", n, len(r.b))
		return nil
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

func (r *binaryReader) u8() byte {
	if v := r.take(1); v != nil {
		return v[0]
	}
	return 0
}

func (r *binaryReader) u16() uint16 {
	if v := r.take(2); v != nil {
		return binary.BigEndian.Uint16(v)
	}
	return 0
}

func (r *binaryReader) u32() uint32 {
	if v := r.take(4); v != nil {
		return binary.BigEndian.Uint32(v)
	}
	return 0
}

// languages are RocketMQ's LanguageCode ordinals.
var languages = []string{"JAVA", "CPP", "DOTNET", "PYTHON", "DELPHI", "ERLANG", "RUBY", "OTHER", "HTTP", "GO", "PHP", "OMS", "RUST", "NODE_JS"}

func decodeBinaryHeader(b []byte) (*Command, error) {
	r := &binaryReader{b: b}
	c := &Command{}
	c.Code = int16(r.u16())
	if lang := int(r.u8()); lang < len(languages) {
		c.Language = languages[lang]
	} else {
		c.Language = "UNKNOWN"
	}
	c.Version = int16(r.u16())
	c.Opaque = int32(r.u32())
	c.Flag = int32(r.u32())
	c.Remark = string(r.take(int(int32(r.u32()))))
	ext := r.take(int(int32(r.u32())))
	if r.err != nil {
		return nil, r.err
	}
	if len(ext) > 0 {
		c.ExtFields = make(map[string]string)
		er := &binaryReader{b: ext}
		for len(er.b) > 0 && er.err == nil {
			k := er.take(int(er.u16()))
			v := er.take(int(int32(er.u32())))
			if er.err == nil {
				c.ExtFields[string(k)] = string(v)
			}
		}
		if er.err != nil {
			return nil, er.err
		}
	}
	return c, nil
}
