package report

import (
	"fmt"
	"html"
	"html/template"
	"strings"

	"github.com/echoconf/echoconf/spec"
)

// htmlHexWindow is one hex window of a failure: its title and the dump,
// with the first differing byte and the differing bytes after it marked.
type htmlHexWindow struct {
	Title string
	Dump  template.HTML
}

// hexWindows returns the expected and received windows of f as marked hex
// dumps, or nil when f has none. A byte is marked "diff" where the two
// windows differ (or only one has a byte), and the first of them "first".
func hexWindows(f *spec.Failure) []htmlHexWindow {
	if f == nil || f.Offset < 0 || (len(f.ExpectedWindow) == 0 && len(f.ActualWindow) == 0) {
		return nil
	}
	first := int(f.Offset - f.WindowStart)
	return []htmlHexWindow{
		{Title: fmt.Sprintf("expected from offset %d", f.WindowStart), Dump: markedDump(f.ExpectedWindow, f.ActualWindow, f.WindowStart, first)},
		{Title: fmt.Sprintf("received from offset %d", f.WindowStart), Dump: markedDump(f.ActualWindow, f.ExpectedWindow, f.WindowStart, first)},
	}
}

// markedDump renders b like hex.Dump (offset, 16 hex bytes, the printable
// characters), with <mark> on each byte that differs from other; first is
// the index of the first differing byte.
func markedDump(b, other []byte, start int64, first int) template.HTML {
	if len(b) == 0 {
		return "(nothing)"
	}
	differs := func(i int) bool { return i >= len(other) || b[i] != other[i] || (i == first) }
	mark := func(i int, text string) string {
		switch {
		case i == first:
			return `<mark class="first" title="first differing byte, offset ` + fmt.Sprint(start+int64(i)) + `">` + text + `</mark>`
		case i > first && differs(i):
			return `<mark class="diff">` + text + `</mark>`
		}
		return text
	}
	var out strings.Builder
	for row := 0; row < len(b); row += 16 {
		fmt.Fprintf(&out, "%08x  ", start+int64(row))
		var ascii strings.Builder
		for col := range 16 {
			i := row + col
			if col == 8 {
				out.WriteString(" ")
			}
			if i >= len(b) {
				out.WriteString("   ")
				continue
			}
			out.WriteString(mark(i, fmt.Sprintf("%02x", b[i])))
			out.WriteString(" ")
			c := "."
			if b[i] >= 0x20 && b[i] < 0x7f {
				c = html.EscapeString(string(rune(b[i])))
			}
			ascii.WriteString(mark(i, c))
		}
		out.WriteString(" |" + ascii.String() + "|\n")
	}
	return template.HTML(out.String()) // every byte is hex or escaped
}
