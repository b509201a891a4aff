// Package render holds the parts of echoconf's reports that the formats of
// conformance/report share with echoconf's own commands: the text report's
// check and title lines (echoconf check streams them as checks end), the
// words that describe a result (message, replay command, timeline, hint),
// the scoring rule, and the documents of the json and gradescope formats
// (grade embeds the first in grade.json and reads it back, and writes the
// second with its own notes).
//
// It is not a public API: conformance/report is.
package render
