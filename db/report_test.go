package db

import (
	"testing"
	"time"

	"tracetrack/internal/scalar"
)

func TestDayWindowAndBusinessWeek(t *testing.T) {
	kolkata, _ := time.LoadLocation("Asia/Kolkata")
	berlin, _ := time.LoadLocation("Europe/Berlin")
	for _, tc := range []struct {
		date     scalar.Date
		zone     *time.Location
		from, to string
		hours    float64
	}{
		{scalar.Date{Year: 2025, Month: 3, Day: 11}, kolkata, "2025-03-10T18:30:00Z", "2025-03-11T18:30:00Z", 24},
		{scalar.Date{Year: 2026, Month: 3, Day: 29}, berlin, "2026-03-28T23:00:00Z", "2026-03-29T22:00:00Z", 23},    // clocks go forward
		{scalar.Date{Year: 2026, Month: 10, Day: 25}, berlin, "2026-10-24T22:00:00Z", "2026-10-25T23:00:00Z", 25},   // and back
		{scalar.Date{Year: 2024, Month: 12, Day: 31}, time.UTC, "2024-12-31T00:00:00Z", "2025-01-01T00:00:00Z", 24}, // year end
	} {
		from, to := DayWindow(tc.date, tc.zone)
		if from.UTC().Format(time.RFC3339) != tc.from || to.UTC().Format(time.RFC3339) != tc.to || to.Sub(from).Hours() != tc.hours {
			t.Errorf("DayWindow(%s, %s) = [%s, %s), want [%s, %s) of %v hours", tc.date, tc.zone, from.UTC(), to.UTC(), tc.from, tc.to, tc.hours)
		}
	}
	for _, tc := range []struct {
		now      string
		zone     *time.Location
		from, to string
	}{
		{"2025-03-12T12:00:00Z", kolkata, "2025-03-09T18:30:00Z", "2025-03-16T18:30:00Z"}, // a Wednesday
		{"2025-03-09T18:30:00Z", kolkata, "2025-03-09T18:30:00Z", "2025-03-16T18:30:00Z"}, // Monday's first instant
		{"2025-03-09T18:29:59Z", kolkata, "2025-03-02T18:30:00Z", "2025-03-09T18:30:00Z"}, // Sunday's last second
		{"2026-03-29T12:00:00Z", berlin, "2026-03-22T23:00:00Z", "2026-03-29T22:00:00Z"},  // a week of 167 hours
	} {
		now, _ := time.Parse(time.RFC3339, tc.now)
		from, to := BusinessWeek(now, tc.zone)
		if from.UTC().Format(time.RFC3339) != tc.from || to.UTC().Format(time.RFC3339) != tc.to {
			t.Errorf("BusinessWeek(%s, %s) = [%s, %s), want [%s, %s)", tc.now, tc.zone, from.UTC(), to.UTC(), tc.from, tc.to)
		}
	}
}
