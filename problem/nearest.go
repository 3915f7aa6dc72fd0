package problem

// Nearest returns the string of valid closest to value when value looks like a typo of
// it (a Levenshtein distance of at least 1 and at most a quarter of value's length, or
// 1 for a short value), else "". Error messages use it for "did you mean": a rule id,
// an environment variable, a field name.
func Nearest(value string, valid []string) string {
	best, bestD := "", -1
	for _, v := range valid {
		if d := levenshtein(value, v); d > 0 && (bestD < 0 || d < bestD) {
			best, bestD = v, d
		}
	}
	if bestD < 0 || bestD > max(1, len(value)/4) {
		return ""
	}
	return best
}

// levenshtein is the edit distance between a and b, in bytes.
func levenshtein(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
