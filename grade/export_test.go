package grade

// ReportFromJSON exposes reportFromJSON to the tests.
var ReportFromJSON = reportFromJSON
