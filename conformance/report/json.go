package report

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/echoconf/echoconf/internal/engine"
	"github.com/echoconf/echoconf/internal/render"
)

// writeJSON writes r as one indented JSON document (schema version 1).
func writeJSON(w io.Writer, r *engine.Report, _ Options) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(render.BuildJSON(r)); err != nil {
		return fmt.Errorf("write json report: %w", err)
	}
	return nil
}
