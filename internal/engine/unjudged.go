package engine

import "github.com/echoconf/echoconf/spec"

// unjudged reports whether failure f of check c says nothing about c's
// requirement. A SHOULD check measures a property of a server that serves
// correctly: what it leaks (spec.KindHygiene: descriptors, zombies) or how
// fast it echoes (spec.KindSlow). Its failure judges that requirement only
// when it is such a measurement. Any other kind (refused, timeout, reset,
// wrong bytes, a dead server...) means the server did not serve the
// check's traffic correctly, so the requirement could not be judged:
// reporting it as a warning would say the property was measured, and as a
// pass that the fault was not there. A MUST check's failure always judges
// its requirement.
func unjudged(c spec.Check, f *spec.Failure) bool {
	return c.Level == spec.Should && f.Kind != c.Measures
}
