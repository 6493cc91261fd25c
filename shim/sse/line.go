package sse

import (
	"bytes"
	"math"
	"unicode/utf8"
	"unsafe"
)

// processLine interprets one complete line (without its line end), as HTML
// §9.2.6 does. It works on the raw bytes: a colon, a space, a NUL and the
// ASCII field names are the same bytes before and after UTF-8 decoding,
// because the decoder never swallows an ASCII byte into a replacement
// character. So only the values that are kept need decoding.
func (p *Parser) processLine(line []byte, dispatch func(Event)) error {
	if len(line) == 0 {
		p.dispatchEvent(dispatch)
		return nil
	}
	if line[0] == ':' {
		return nil // comment
	}
	name, value := line, []byte(nil)
	if colon := bytes.IndexByte(line, ':'); colon >= 0 {
		name, value = line[:colon], line[colon+1:]
		if len(value) > 0 && value[0] == ' ' {
			value = value[1:]
		}
	}
	switch string(name) {
	case "data":
		return p.endDataLine(value)
	case "event":
		if len(p.data)+len(line) > p.maxEventSize {
			return p.errEventTooLarge()
		}
		p.setEventType(value)
	case "id":
		if len(p.data)+len(line) > p.maxEventSize {
			return p.errEventTooLarge()
		}
		p.setIDBuffer(value)
	case "retry":
		if len(p.data)+len(line) > p.maxEventSize {
			return p.errEventTooLarge()
		}
		if ms, ok := parseRetry(value); ok {
			p.retry, p.retrySet = ms, true
		}
	}
	return nil
}

// continueLine takes the part of a line that a chunk ends in the middle of.
func (p *Parser) continueLine(b []byte) error {
	p.inLine = true
	for len(b) > 0 {
		switch p.lineKind {
		case lineIgnored:
			return nil
		case lineData:
			return p.appendData(b)
		case lineBuffered:
			if len(p.data)+len(p.lineBuf)+len(b) > p.maxEventSize {
				return p.errEventTooLarge()
			}
			p.lineBuf = append(p.lineBuf, b...)
			return nil
		default:
			n := min(len(b), maxUndecidedLen-len(p.lineBuf))
			p.lineBuf = append(p.lineBuf, b[:n]...)
			b = b[n:]
			if err := p.decideLineKind(); err != nil {
				return err
			}
		}
	}
	return nil
}

// decideLineKind looks at the first bytes of a line held in lineBuf and
// decides its lineKind when they suffice.
func (p *Parser) decideLineKind() error {
	start := p.lineBuf
	if start[0] == ':' {
		p.lineKind, p.lineBuf = lineIgnored, p.lineBuf[:0]
		return nil
	}
	colon := bytes.IndexByte(start, ':')
	if colon < 0 {
		if len(start) >= maxUndecidedLen {
			// A line with no colon is all field name, and none of the
			// known names is this long.
			p.lineKind, p.lineBuf = lineIgnored, p.lineBuf[:0]
		}
		return nil
	}
	switch string(start[:colon]) {
	case "data":
		if len(start) == colon+1 {
			return nil // whether a space follows the colon is not known yet
		}
		value := start[colon+1:]
		if value[0] == ' ' {
			value = value[1:]
		}
		p.lineKind = lineData
		err := p.appendData(value)
		p.lineBuf = p.lineBuf[:0]
		return err
	case "event", "id", "retry":
		p.lineKind = lineBuffered
		if len(p.data)+len(p.lineBuf) > p.maxEventSize {
			return p.errEventTooLarge()
		}
	default:
		p.lineKind, p.lineBuf = lineIgnored, p.lineBuf[:0]
	}
	return nil
}

// finishLine ends a line that started in an earlier chunk; rest is its
// final part.
func (p *Parser) finishLine(rest []byte, dispatch func(Event)) error {
	if err := p.continueLine(rest); err != nil {
		return err
	}
	var err error
	switch p.lineKind {
	case lineIgnored:
	case lineData:
		err = p.endDataLine(nil)
	default:
		// Undecided lines are short ones such as "data" or "id" alone.
		err = p.processLine(p.lineBuf, dispatch)
	}
	p.resetLine()
	return err
}

// appendData appends part of a data line's value to the data buffer.
func (p *Parser) appendData(value []byte) error {
	// Decoding never shrinks its input, so checking the raw length first
	// refuses an oversized value before copying any of it. The slack covers
	// the bytes of an incomplete sequence the decoder may still be holding
	// when the stream ends, so that the verdict never depends on where
	// chunks were split.
	if len(p.data)+len(value)-(utf8.UTFMax-1) > p.maxEventSize {
		return p.errEventTooLarge()
	}
	p.data = p.dataDecoder.decode(grow(p.data, len(value), p.maxEventSize+utf8.UTFMax), value)
	if len(p.data) > p.maxEventSize {
		return p.errEventTooLarge()
	}
	return nil
}

// endDataLine appends the last part of a data line's value and the LF the
// spec appends after every data line.
func (p *Parser) endDataLine(value []byte) error {
	if err := p.appendData(value); err != nil {
		return err
	}
	p.data = p.dataDecoder.flush(p.data)
	if len(p.data) > p.maxEventSize {
		return p.errEventTooLarge()
	}
	p.data = append(p.data, '\n')
	return nil
}

// grow makes room for n more bytes in b, doubling its capacity when it must
// grow, so that one large event streamed in many chunks is copied a bounded
// number of times (append alone grows large slices by only 1.25×). It never
// doubles past limit, the most the buffer may ever hold (the event size
// bound, plus the bytes an incomplete sequence may still add and the final
// LF): a buffer just past half the bound would otherwise take twice the
// bound, in a wasm memory that never shrinks.
func grow(b []byte, n, limit int) []byte {
	if cap(b)-len(b) >= n {
		return b
	}
	size := max(2*cap(b), len(b)+n, 512)
	if size > limit/4 {
		// The last doublings would leave a trail of garbage as large as
		// the buffer (wasm memory never shrinks): past a quarter of the
		// bound, go to the bound at once.
		size = max(limit, len(b)+n)
	}
	nb := make([]byte, len(b), size)
	copy(nb, b)
	return nb
}

// setEventType sets the event type buffer to value.
func (p *Parser) setEventType(value []byte) {
	// Comparing string(value) does not allocate; reusing the string spares
	// an allocation per event on streams that repeat a few event types.
	if string(value) != p.typeCache {
		p.typeCache = decodeString(value)
	}
	p.eventType = p.typeCache
}

// setIDBuffer sets the last event ID buffer to value, unless value holds a
// NUL, which the spec ignores so that the ID can always be sent back as a
// header.
func (p *Parser) setIDBuffer(value []byte) {
	if bytes.IndexByte(value, 0) >= 0 {
		return
	}
	if string(value) != p.idBuffer {
		p.idBuffer = decodeString(value)
	}
}

// parseRetry interprets a retry value: only ASCII digits count, and an empty
// value is ignored. A value too large for an int64 is ignored too rather
// than clamped: no server means it.
func parseRetry(value []byte) (int64, bool) {
	if len(value) == 0 {
		return 0, false
	}
	var ms int64
	for _, c := range value {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := int64(c - '0')
		if ms > (math.MaxInt64-d)/10 {
			return 0, false
		}
		ms = ms*10 + d
	}
	return ms, true
}

// dispatchEvent is the spec's "dispatch the event", run at a blank line.
func (p *Parser) dispatchEvent(dispatch func(Event)) {
	p.lastEventID = p.idBuffer
	if len(p.data) == 0 {
		p.eventType = ""
		return
	}
	ev := Event{
		Type:        p.eventType,
		Data:        p.takeData(),
		LastEventID: p.lastEventID,
	}
	if ev.Type == "" {
		ev.Type = "message"
	}
	p.resetEvent()
	dispatch(ev)
}

// takeData returns the data buffer as a string, without the one trailing LF.
// A buffer too large to keep for reuse is handed over instead of copied:
// the string takes it and the parser lets go of it, so an 8 MiB message is
// not copied once more (nor its memory doubled) on its way out. Nothing
// writes to the buffer after that, which is what makes unsafe.String sound.
func (p *Parser) takeData() string {
	data := p.data[:len(p.data)-1]
	if cap(p.data) <= retainedBufferCap || len(data) == 0 {
		return string(data)
	}
	p.data = nil
	return unsafe.String(&data[0], len(data))
}

// resetEvent empties the data and event type buffers.
func (p *Parser) resetEvent() {
	p.eventType = ""
	if cap(p.data) > retainedBufferCap {
		p.data = nil
	} else {
		p.data = p.data[:0]
	}
}

// resetLine forgets the line that spanned chunks.
func (p *Parser) resetLine() {
	p.inLine, p.lineKind = false, lineUndecided
	if cap(p.lineBuf) > retainedBufferCap {
		p.lineBuf = nil
	} else {
		p.lineBuf = p.lineBuf[:0]
	}
}
