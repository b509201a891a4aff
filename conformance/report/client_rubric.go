package report

import (
	"bytes"
	_ "embed"

	"github.com/echoconf/echoconf/spec"
)

//go:embed default_client_rubric.yaml
var defaultClientRubricYAML []byte

//go:embed default_stream_client_rubric.yaml
var defaultStreamClientRubricYAML []byte

// DefaultClientRubricYAML returns the built-in rubric for clients of the
// given shape, as a file for graders to copy and edit: one for stream
// clients, which client/large-stream also judges, and one for argument
// and interactive clients, which it does not.
func DefaultClientRubricYAML(shape spec.Shape) []byte {
	if shape == spec.ShapeStream {
		return bytes.Clone(defaultStreamClientRubricYAML)
	}
	return bytes.Clone(defaultClientRubricYAML)
}

// DefaultClientRubric returns the built-in rubric for clients of the given
// shape, resolved against spec.Clients(). The checks that apply to the
// shape total exactly 100 points.
func DefaultClientRubric(shape spec.Shape) (*Rubric, error) {
	return ParseRubric(DefaultClientRubricYAML(shape), spec.Clients())
}
