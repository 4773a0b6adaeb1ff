package config

import "testing"

func TestParseWindows(t *testing.T) {
	daily := []struct {
		in      string
		length  int
		wantErr bool
	}{
		{"02:00-02:30", 30, false},
		{"23:30-00:30", 60, false},
		{"2:00-2:30", 0, true},
		{"24:00-01:00", 0, true},
		{"03:00-03:00", 0, true},
	}
	for _, tc := range daily {
		_, length, err := ParseDailyWindow(tc.in)
		if (err != nil) != tc.wantErr || length != tc.length {
			t.Errorf("ParseDailyWindow(%q): want length %d err %v, got %d %v", tc.in, tc.length, tc.wantErr, length, err)
		}
	}
	weekly := []struct {
		in      string
		length  int
		wantErr bool
	}{
		{"sun:05:00-sun:06:00", 60, false},
		{"sun:23:30-mon:00:30", 60, false},
		{"Sun:05:00-Sun:06:00", 60, false},
		{"sun:05:00-06:00", 0, true},
		{"fri:05:00-fri:05:00", 0, true},
	}
	for _, tc := range weekly {
		_, length, err := ParseWeeklyWindow(tc.in)
		if (err != nil) != tc.wantErr || length != tc.length {
			t.Errorf("ParseWeeklyWindow(%q): want length %d err %v, got %d %v", tc.in, tc.length, tc.wantErr, length, err)
		}
	}
}

func TestWindowsOverlap(t *testing.T) {
	cases := []struct {
		daily, weekly string
		want          bool
	}{
		{"02:00-02:30", "sun:05:00-sun:06:00", false},
		{"05:30-06:00", "sun:05:00-sun:06:00", true},
		{"06:00-06:30", "sun:05:00-sun:06:00", false}, // touching is not overlapping
		{"23:45-00:15", "mon:00:00-mon:01:00", true},  // daily wraps midnight
		{"23:45-00:15", "sun:23:00-mon:00:05", true},  // weekly wraps the week
		{"12:00-12:30", "sun:23:00-mon:00:05", false},
	}
	for _, tc := range cases {
		d, _, err := ParseDailyWindow(tc.daily)
		if err != nil {
			t.Fatal(err)
		}
		w, _, err := ParseWeeklyWindow(tc.weekly)
		if err != nil {
			t.Fatal(err)
		}
		if got := WindowsOverlap(d, w); got != tc.want {
			t.Errorf("WindowsOverlap(%s, %s): want %v, got %v", tc.daily, tc.weekly, tc.want, got)
		}
	}
}
