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
		first := true
		for ch := range chunks {
			for i := range ch.data {
				if !first && !c.pause(c.cfg.Pause) {
					return false
				}
				first = false
				if !c.write(ch.data[i : i+1]) {
					return false
				}
			}
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
		if !c.resplit(chunks) {
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

// resplit writes every chunk in pieces of the sizes in cfg.Pieces, in
// turn across chunks, cfg.Pause apart. A piece never waits for bytes not
// yet read: the last piece of a chunk may be cut short.
func (c *conn) resplit(chunks <-chan chunk) bool {
	k, first := 0, true
	for ch := range chunks {
		for b := ch.data; len(b) > 0; k++ {
			n := min(c.cfg.Pieces[k%len(c.cfg.Pieces)], len(b))
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
