//go:build race

package irr

// raceEnabled lets the slow real-data tests sample less under the race detector.
const raceEnabled = true
