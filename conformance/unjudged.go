package conformance

import "github.com/echoconf/echoconf/spec"

// unjudged reports whether failure f of check c says nothing about c's
// requirement. A SHOULD check measures something the server leaks (file
// descriptors, zombies); its failure judges that requirement only when it
// is such a measurement (spec.KindHygiene). Any other kind (refused,
// timeout, reset, a dead server...) means the server did not serve the
// check's traffic, so the requirement could not be judged: reporting it
// as a warning would say the leak was measured, and as a pass that it was
// not there. A MUST check's failure always judges its requirement.
func unjudged(c spec.Check, f *spec.Failure) bool {
	return c.Level == spec.Should && f.Kind != spec.KindHygiene
}
