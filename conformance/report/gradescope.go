package report

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/echoconf/echoconf/internal/engine"
	"github.com/echoconf/echoconf/internal/render"
)

// writeGradescope writes r as Gradescope's results.json (its autograder
// specification), each check scored with o.Rubric or the default rubric of
// r's catalogue (server, UDP or client):
// a test passes when its check earns its points (see Rubric), with a
// student-facing diagnosis, hint and replay command for each failure.
func writeGradescope(w io.Writer, r *engine.Report, o Options) error {
	rubric := o.Rubric
	if rubric == nil {
		var err error
		if rubric, err = defaultRubricFor(r); err != nil {
			return fmt.Errorf("gradescope: %w", err)
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(render.BuildGradescope(r, rubric)); err != nil {
		return fmt.Errorf("gradescope: %w", err)
	}
	return nil
}
