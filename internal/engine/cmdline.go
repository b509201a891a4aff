package conformance

import (
	"errors"
	"fmt"
	"strings"
)

// parseCommand splits a command line into words, honouring '…' and "…"
// quoting and backslash escapes as sh does. It reports shell=true when the
// line contains shell syntax outside quotes that only a shell can run
// (pipes, lists, redirections, expansions, globs, subshells); the words are
// then meaningless and the caller runs the line with /bin/sh -c. simple is
// false when the line holds more than one command (|, &, ;, newline), so it
// cannot be prefixed with exec.
func parseCommand(line string) (words []string, shell bool, err error) {
	var (
		cur    strings.Builder
		inWord bool
		simple = true
	)
	flush := func() {
		if inWord {
			words = append(words, cur.String())
			cur.Reset()
			inWord = false
		}
	}
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == ' ' || c == '\t':
			flush()
		case c == '\'':
			j := strings.IndexByte(line[i+1:], '\'')
			if j < 0 {
				return nil, false, fmt.Errorf("command %q: unterminated single quote", line)
			}
			cur.WriteString(line[i+1 : i+1+j])
			inWord = true
			i += j + 1
		case c == '"':
			inWord = true
			closed := false
			for i++; i < len(line); i++ {
				d := line[i]
				if d == '"' {
					closed = true
					break
				}
				if d == '\\' && i+1 < len(line) && strings.IndexByte("\\\"$`\n", line[i+1]) >= 0 {
					i++
					d = line[i]
				} else if d == '$' || d == '`' {
					shell = true
				}
				cur.WriteByte(d)
			}
			if !closed {
				return nil, false, fmt.Errorf("command %q: unterminated double quote", line)
			}
		case c == '\\':
			if i+1 >= len(line) {
				return nil, false, fmt.Errorf("command %q: trailing backslash", line)
			}
			i++
			cur.WriteByte(line[i])
			inWord = true
		case strings.IndexByte("|&;\n", c) >= 0:
			shell, simple = true, false
			flush()
		case strings.IndexByte("<>$`()*?[]{}~#", c) >= 0:
			// {port} is our placeholder, not shell brace syntax, and # only
			// starts a comment at the start of a word.
			if c == '{' && strings.HasPrefix(line[i:], "{port}") {
				cur.WriteString("{port}")
				inWord = true
				i += len("{port}") - 1
				continue
			}
			if c == '#' && inWord {
				cur.WriteByte(c)
				continue
			}
			shell = true
			cur.WriteByte(c)
			inWord = true
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	flush()
	if len(words) > 0 && isAssignment(words[0]) {
		shell = true // NAME=value cmd: an environment assignment
	}
	if len(words) == 0 && !shell {
		return nil, false, errors.New("empty exec command")
	}
	if shell && !simple {
		return words, true, errSimple
	}
	return words, shell, nil
}

// errSimple is an internal marker: shell syntax with more than one command.
var errSimple = errors.New("compound shell command")

// commandArgv returns the argv that runs line with {port} replaced.
func commandArgv(line, port string) ([]string, error) {
	words, shell, err := parseCommand(line)
	sub := strings.ReplaceAll(line, "{port}", port)
	switch {
	case errors.Is(err, errSimple):
		return []string{"/bin/sh", "-c", sub}, nil
	case err != nil:
		return nil, err
	case shell:
		return []string{"/bin/sh", "-c", "exec " + sub}, nil
	}
	for i := range words {
		words[i] = strings.ReplaceAll(words[i], "{port}", port)
	}
	return words, nil
}

// isAssignment reports whether w is a shell assignment NAME=value.
func isAssignment(w string) bool {
	eq := strings.IndexByte(w, '=')
	if eq <= 0 {
		return false
	}
	for i := 0; i < eq; i++ {
		c := w[i]
		if c != '_' && (c < 'A' || c > 'Z') && (c < 'a' || c > 'z') && (i == 0 || c < '0' || c > '9') {
			return false
		}
	}
	return true
}
