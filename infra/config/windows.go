package config

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// AWS maintenance and backup windows are given in UTC, as "hh:mm-hh:mm"
// (daily) or "ddd:hh:mm-ddd:hh:mm" (weekly). These helpers parse them into
// minute ranges of the week so that overlaps can be checked before AWS
// rejects them mid-deployment.

const (
	minutesPerDay  = 24 * 60
	minutesPerWeek = 7 * minutesPerDay
)

var weekdays = []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}

var (
	dailyWindowRE  = regexp.MustCompile(`^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$`)
	weeklyWindowRE = regexp.MustCompile(`^(mon|tue|wed|thu|fri|sat|sun):([01]\d|2[0-3]):([0-5]\d)-(mon|tue|wed|thu|fri|sat|sun):([01]\d|2[0-3]):([0-5]\d)$`)
)

// Span is a half-open range of minutes of the week, [Start, End); End may
// exceed minutesPerWeek when the window wraps past Sunday midnight.
type Span struct{ Start, End int }

func atoi(s string) int {
	n, _ := strconv.Atoi(s) // only called on regexp-checked digits
	return n
}

// ParseDailyWindow parses "hh:mm-hh:mm" into the seven spans it covers in a
// week, and its length in minutes.
func ParseDailyWindow(w string) ([]Span, int, error) {
	m := dailyWindowRE.FindStringSubmatch(w)
	if m == nil {
		return nil, 0, fmt.Errorf("want hh:mm-hh:mm in UTC, e.g. 03:00-03:30")
	}
	start := atoi(m[1])*60 + atoi(m[2])
	end := atoi(m[3])*60 + atoi(m[4])
	length := (end - start + minutesPerDay) % minutesPerDay
	if length == 0 {
		return nil, 0, fmt.Errorf("start and end are the same time")
	}
	spans := make([]Span, 0, len(weekdays))
	for d := range weekdays {
		s := d*minutesPerDay + start
		spans = append(spans, Span{s, s + length})
	}
	return spans, length, nil
}

// ParseWeeklyWindow parses "ddd:hh:mm-ddd:hh:mm" into its Span of the week
// and its length in minutes.
func ParseWeeklyWindow(w string) (Span, int, error) {
	m := weeklyWindowRE.FindStringSubmatch(strings.ToLower(w))
	if m == nil {
		return Span{}, 0, fmt.Errorf("want ddd:hh:mm-ddd:hh:mm in UTC, e.g. sun:05:00-sun:06:00")
	}
	day := func(name string) int {
		for i, d := range weekdays {
			if d == name {
				return i
			}
		}
		return 0
	}
	start := day(m[1])*minutesPerDay + atoi(m[2])*60 + atoi(m[3])
	end := day(m[4])*minutesPerDay + atoi(m[5])*60 + atoi(m[6])
	length := (end - start + minutesPerWeek) % minutesPerWeek
	if length == 0 {
		return Span{}, 0, fmt.Errorf("start and end are the same time")
	}
	return Span{start, start + length}, length, nil
}

// overlaps reports whether two spans share a minute, taking the weekly wrap
// into account.
func (a Span) overlaps(b Span) bool {
	for _, shift := range []int{-minutesPerWeek, 0, minutesPerWeek} {
		if a.Start < b.End+shift && b.Start+shift < a.End {
			return true
		}
	}
	return false
}

// WindowsOverlap reports whether a daily window and a weekly window share
// any minute.
func WindowsOverlap(daily []Span, weekly Span) bool {
	for _, d := range daily {
		if d.overlaps(weekly) {
			return true
		}
	}
	return false
}
