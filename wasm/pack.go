//go:build js && wasm

package main

import (
	"encoding/binary"
	"strings"

	"github.com/esshim/esshim/shim/sse"
	"github.com/hack-pad/safejs"
)

// utf16Len is the length of s in UTF-16 code units, as JS counts it. s is
// valid UTF-8 (the parser replaced anything else). ASCII is skipped eight
// bytes at a time.
func utf16Len(s string) int {
	n := 0
	i := 0
	for ; i+8 <= len(s); i += 8 {
		w := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
			uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
		if w&0x8080808080808080 != 0 {
			break
		}
		n += 8
	}
	for ; i < len(s); i++ {
		c := s[i]
		switch {
		case c < 0x80:
			n++
		case c >= 0xF0:
			n += 2 // a 4-byte sequence: a surrogate pair
		case c >= 0xC0:
			n++
		}
	}
	return n
}

var jsUint32Array = mustGet(jsGlobal, "Uint32Array")

// uint32Array copies v into a new Uint32Array.
func uint32Array(v []uint32) safejs.Value {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], x)
	}
	buf, _ := bytesToJS(b).Get("buffer")
	a, _ := jsUint32Array.New(buf)
	return a
}

// noChange is the length sent for an event's type or id that equals the
// previous event's: it is not sent again.
const noChange = 0xFFFFFFFF

// packEvents packs a batch of events into one string and a Uint32Array of
// lengths in UTF-16 code units, three per event (type, data, lastEventId),
// so that the batch crosses into JS as two values instead of three strings
// per event.
func packEvents(events []sse.Event) (string, safejs.Value) {
	size := 0
	for _, e := range events {
		size += len(e.Type) + len(e.Data) + len(e.LastEventID)
	}
	var b strings.Builder
	b.Grow(size)
	lengths := make([]uint32, 0, 3*len(events))
	prevType, prevID := "\x00", "\x00"
	put := func(f string, same bool) {
		if same {
			lengths = append(lengths, noChange)
			return
		}
		b.WriteString(f)
		lengths = append(lengths, uint32(utf16Len(f)))
	}
	for _, e := range events {
		put(e.Type, e.Type == prevType)
		put(e.Data, false)
		put(e.LastEventID, e.LastEventID == prevID)
		prevType, prevID = e.Type, e.LastEventID
	}
	return b.String(), uint32Array(lengths)
}

// packStrings joins strs into one string, with a Uint32Array of their
// lengths in UTF-16 code units.
func packStrings(strs []string) (string, safejs.Value) {
	size := 0
	for _, s := range strs {
		size += len(s)
	}
	var b strings.Builder
	b.Grow(size)
	lengths := make([]uint32, len(strs))
	for i, s := range strs {
		b.WriteString(s)
		lengths[i] = uint32(utf16Len(s))
	}
	return b.String(), uint32Array(lengths)
}
