package conformance

// CommandArgv exposes the command splitter to the external test package.
var CommandArgv = commandArgv
