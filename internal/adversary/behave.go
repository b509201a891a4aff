package adversary

import "time"

// play writes what the behaviour wants, reading the chunks the client
// sent, and ends with the server's FIN or RST. It returns early when a
// write fails or the server closes; serve then drains what is left. It
// returns true when the connection is to be held open, unanswered, after
// the client's end (Silent).
func (c *conn) play(chunks <-chan chunk) (hold bool) {
	switch c.cfg.Behaviour {
	case Echo:
		for ch := range chunks {
			if !c.write(ch.data) {
				return false
			}
		}
	case Trickle:
		if !c.cut(chunks, func(int) int { return 1 }) {
			return false
		}
	case Delay:
		for ch := range chunks {
			if wait := time.Until(ch.at.Add(c.cfg.Delay)); wait > 0 && !c.pause(wait) {
				return false
			}
			if !c.write(ch.data) {
				return false
			}
		}
	case Resplit:
		if !c.cut(chunks, func(k int) int { return c.cfg.Pieces[k%len(c.cfg.Pieces)] }) {
			return false
		}
	case CloseAtOnce:
	case CloseHalf:
		if ch, ok := <-chunks; ok && len(ch.data) >= 2 {
			if !c.write(ch.data[:len(ch.data)/2]) {
				return false
			}
		}
	case Reset:
		<-chunks // the first chunk, or the client's end
		c.reset()
		return false
	case Silent:
		return true // not even a FIN
	}
	c.halfClose()
	return false
}

// cut writes every chunk in pieces of size(k) bytes, k counting the
// pieces of the whole connection, cfg.Pause apart; after cfg.MaxPieces
// pieces of a chunk, the rest of it goes in one write. A piece never waits
// for bytes not yet read: the last piece of a chunk may be cut short.
func (c *conn) cut(chunks <-chan chunk, size func(k int) int) bool {
	k, first := 0, true
	for ch := range chunks {
		for i, b := 0, ch.data; len(b) > 0; i, k = i+1, k+1 {
			n := min(size(k), len(b))
			if i+1 >= c.cfg.MaxPieces {
				n = len(b)
			}
			if !first && !c.pause(c.cfg.Pause) {
				return false
			}
			first = false
			if !c.write(b[:n]) {
				return false
			}
			b = b[n:]
		}
	}
	return true
}
