package health_test

import "regexp"

var durationRE = regexp.MustCompile(` \([0-9.]+[µnm]?s\)`)

// trimDurations removes the " (1.2ms)" durations from verbose output.
func trimDurations(s string) string { return durationRE.ReplaceAllString(s, "") }
