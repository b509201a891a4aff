package grade

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/echoconf/echoconf/spec"
)

// FileManifest is the machine-readable record that a run with --out writes
// at the top of its directory, and each graded submission in its own
// directory (see Manifest and the package documentation).
const FileManifest = "grade.json"

// ManifestSchemaVersion is the version of the grade.json files' schema.
const ManifestSchemaVersion = 1

const modulePath = "github.com/echoconf/echoconf"

// Version returns the version of echoconf built into this program: the
// module version, or for a development build "(devel)" and the VCS
// revision when the build recorded one.
func Version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "(unknown)"
	}
	v := ""
	if bi.Main.Path == modulePath {
		v = bi.Main.Version
	} else {
		for _, d := range bi.Deps {
			if d.Path == modulePath {
				v = d.Version
				if d.Replace != nil {
					v = d.Replace.Version
				}
			}
		}
	}
	if v == "" {
		v = "(devel)"
	}
	if v == "(devel)" {
		var rev, modified string
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				modified = s.Value
			}
		}
		if rev != "" {
			v += " " + rev
			if modified == "true" {
				v += "+dirty"
			}
		}
	}
	return v
}

// RunConfig is what decides a submission's results besides the submission
// itself: runs whose configurations or echoconf versions differ are not
// merged, and --resume does not reuse their results.
type RunConfig struct {
	// RubricSHA256 hashes the points of every check of the rubric.
	RubricSHA256 string `json:"rubric_sha256"`
	// Checks are the selected check IDs, in catalogue order.
	Checks       []string `json:"checks"`
	MaxScore     float64  `json:"max_score"`
	Strict       bool     `json:"strict"`
	Repeat       int      `json:"repeat"`
	TimeoutScale float64  `json:"timeout_scale"`
	Binary       string   `json:"binary"`
	Run          string   `json:"run"`
	// ClientShape and ClientTTY are set when the run graded clients.
	ClientShape string `json:"client_shape,omitempty"`
	ClientTTY   bool   `json:"client_tty,omitempty"`
}

// configOf returns the RunConfig of o (after withDefaults).
func configOf(o Options) RunConfig {
	h := sha256.New()
	for _, id := range o.Rubric.IDs() {
		fmt.Fprintf(h, "%s=%s\n", id, strconv.FormatFloat(o.Rubric.Points(id), 'g', -1, 64))
	}
	c := RunConfig{
		RubricSHA256: hex.EncodeToString(h.Sum(nil)),
		MaxScore:     selectedMax(o),
		Strict:       o.Strict,
		Repeat:       max(o.Repeat, 1),
		TimeoutScale: o.TimeoutScale,
		Binary:       o.Binary,
		Run:          o.Run,
	}
	if c.TimeoutScale == 0 {
		c.TimeoutScale = 1
	}
	if o.Client != nil {
		c.ClientShape, c.ClientTTY = o.Client.Shape.String(), o.Client.TTY
	}
	checks := o.Checks
	if checks == nil {
		checks = spec.All()
	}
	for _, ch := range checks {
		if selected(o, ch) {
			c.Checks = append(c.Checks, ch.ID)
		}
	}
	return c
}

// hash returns a digest of the configuration.
func (c RunConfig) hash() string {
	data, _ := json.Marshal(c) // a struct of plain fields always marshals
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// differences names the fields in which c and d differ.
func (c RunConfig) differences(d RunConfig) []string {
	var out []string
	add := func(differ bool, name string, a, b any) {
		if differ {
			out = append(out, fmt.Sprintf("%s (%v vs %v)", name, a, b))
		}
	}
	add(c.RubricSHA256 != d.RubricSHA256, "rubric", short(c.RubricSHA256), short(d.RubricSHA256))
	add(fmt.Sprint(c.Checks) != fmt.Sprint(d.Checks), "selected checks", len(c.Checks), len(d.Checks))
	add(c.MaxScore != d.MaxScore, "max score", c.MaxScore, d.MaxScore)
	add(c.Strict != d.Strict, "--strict", c.Strict, d.Strict)
	add(c.Repeat != d.Repeat, "--repeat", c.Repeat, d.Repeat)
	add(c.TimeoutScale != d.TimeoutScale, "--timeout-scale", c.TimeoutScale, d.TimeoutScale)
	add(c.Binary != d.Binary, "--binary", c.Binary, d.Binary)
	add(c.ClientShape != d.ClientShape, "client --shape", c.ClientShape, d.ClientShape)
	add(c.ClientTTY != d.ClientTTY, "client --tty", c.ClientTTY, d.ClientTTY)
	add(c.Run != d.Run, "--run", c.Run, d.Run)
	return out
}

func short(h string) string {
	if len(h) > 12 {
		return "sha256:" + h[:12]
	}
	return h
}

// Manifest is DIR/grade.json: what a run with --out DIR graded, and how.
// It is written when the run starts (Complete false) and again when it
// ends; merge refuses a run that did not complete.
type Manifest struct {
	SchemaVersion int       `json:"schema_version"`
	Tool          string    `json:"tool"`
	Version       string    `json:"echoconf_version"`
	Config        RunConfig `json:"config"`
	// Shard is "K/N"; "0/1" for a whole class.
	Shard string `json:"shard"`
	// Class lists every submission of the class, sorted, whichever shard
	// this run graded; Submissions lists those this run graded.
	Class       []string  `json:"class"`
	Submissions []string  `json:"submissions"`
	Complete    bool      `json:"complete"`
	Started     time.Time `json:"started"`
	DurationMS  float64   `json:"duration_ms"`
}

// readJSONFile decodes the JSON file at path into v, refusing unknown
// fields and files over 64 MiB.
func readJSONFile(path string, v any) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	dec := json.NewDecoder(io.LimitReader(f, 64<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

func writeJSONFile(path string, v any) error {
	return writeFileAtomic(path, func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	})
}

// ReadManifest reads DIR/grade.json.
func ReadManifest(dir string) (*Manifest, error) {
	var m Manifest
	if err := readJSONFile(filepath.Join(dir, FileManifest), &m); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%s has no %s: it is not the --out directory of an echoconf grade run", dir, FileManifest)
		}
		return nil, fmt.Errorf("read the manifest: %w", err)
	}
	if m.SchemaVersion != ManifestSchemaVersion || m.Tool != "echoconf" {
		return nil, fmt.Errorf("%s: schema version %d of %q, want %d of \"echoconf\"", filepath.Join(dir, FileManifest), m.SchemaVersion, m.Tool, ManifestSchemaVersion)
	}
	return &m, nil
}
