package process

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
	l := &lexer{line: line, simple: true}
	for ; l.i < len(line); l.i++ {
		if err := l.step(); err != nil {
			return nil, false, fmt.Errorf("command %q: %w", line, err)
		}
	}
	l.flush()
	words, shell = l.words, l.shell
	if len(words) > 0 && isAssignment(words[0]) {
		shell = true // NAME=value cmd: an environment assignment
	}
	if len(words) == 0 && !shell {
		return nil, false, errors.New("empty exec command")
	}
	if shell && !l.simple {
		return words, true, errSimple
	}
	return words, shell, nil
}

// lexer is parseCommand's state: the word being built, the words so far,
// and what shell syntax it has seen.
type lexer struct {
	line   string
	i      int // the byte being read
	cur    strings.Builder
	inWord bool
	words  []string
	shell  bool // shell syntax outside quotes
	simple bool // no |, &, ; or newline
}

// step reads the byte at l.i, and any bytes it owns (a quoted string).
func (l *lexer) step() error {
	c := l.line[l.i]
	switch {
	case c == ' ' || c == '\t':
		l.flush()
	case c == '\'':
		return l.singleQuoted()
	case c == '"':
		return l.doubleQuoted()
	case c == '\\':
		if l.i+1 >= len(l.line) {
			return errors.New("trailing backslash")
		}
		l.i++
		l.add(l.line[l.i])
	case strings.IndexByte("|&;\n", c) >= 0:
		l.shell, l.simple = true, false
		l.flush()
	case strings.IndexByte("<>$`()*?[]{}~#", c) >= 0:
		l.special(c)
	default:
		l.add(c)
	}
	return nil
}

// add appends c to the current word.
func (l *lexer) add(c byte) {
	l.cur.WriteByte(c)
	l.inWord = true
}

// flush ends the current word, if any.
func (l *lexer) flush() {
	if l.inWord {
		l.words = append(l.words, l.cur.String())
		l.cur.Reset()
		l.inWord = false
	}
}

// singleQuoted reads '…' literally.
func (l *lexer) singleQuoted() error {
	j := strings.IndexByte(l.line[l.i+1:], '\'')
	if j < 0 {
		return errors.New("unterminated single quote")
	}
	l.cur.WriteString(l.line[l.i+1 : l.i+1+j])
	l.inWord = true
	l.i += j + 1
	return nil
}

// doubleQuoted reads "…", where \ escapes \ " $ ` and newline, and $ or `
// still needs a shell.
func (l *lexer) doubleQuoted() error {
	l.inWord = true
	for l.i++; l.i < len(l.line); l.i++ {
		d := l.line[l.i]
		if d == '"' {
			return nil
		}
		if d == '\\' && l.i+1 < len(l.line) && strings.IndexByte("\\\"$`\n", l.line[l.i+1]) >= 0 {
			l.i++
			d = l.line[l.i]
		} else if d == '$' || d == '`' {
			l.shell = true
		}
		l.cur.WriteByte(d)
	}
	return errors.New("unterminated double quote")
}

// placeholders are what a command line may name for echoconf to fill in.
var placeholders = []string{"{port}", "{host}", "{message}"}

// special handles a shell metacharacter outside quotes. A placeholder is
// not brace syntax, and # starts a comment only at the start
// of a word.
func (l *lexer) special(c byte) {
	for _, ph := range placeholders {
		if c == '{' && strings.HasPrefix(l.line[l.i:], ph) {
			l.cur.WriteString(ph)
			l.inWord = true
			l.i += len(ph) - 1
			return
		}
	}
	if c != '#' || !l.inWord {
		l.shell = true
	}
	l.add(c)
}

// errSimple is an internal marker: shell syntax with more than one command.
var errSimple = errors.New("compound shell command")

// commandArgv returns the argv that runs line with {port} replaced.
func commandArgv(line, port string) ([]string, error) {
	return expandArgv(line, map[string]string{"{port}": port})
}

// expandArgv returns the argv that runs line with each placeholder of vars
// ("{port}", "{host}", "{message}") replaced by its value. A value
// replaces whole placeholders inside one word and never splits it; a line
// that needs a shell gets the values substituted as given, so they must
// not need quoting there.
func expandArgv(line string, vars map[string]string) ([]string, error) {
	words, shell, err := parseCommand(line)
	expand := func(w string) string {
		for k, v := range vars {
			w = strings.ReplaceAll(w, k, v)
		}
		return w
	}
	switch {
	case errors.Is(err, errSimple):
		return []string{"/bin/sh", "-c", expand(line)}, nil
	case err != nil:
		return nil, err
	case shell:
		return []string{"/bin/sh", "-c", "exec " + expand(line)}, nil
	}
	for i := range words {
		words[i] = expand(words[i])
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
