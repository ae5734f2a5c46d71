package main

import "fmt"

// seededUsers names the users the seeder creates: <dispatcher prefix><area>_<n> for n =
// 1..perArea in every area, <biller prefix><n> and <admin prefix><n>.
type seededUsers struct {
	DispatcherPrefix   string
	BillerPrefix       string
	AdminPrefix        string
	Areas              []string
	DispatchersPerArea int
	Billers            int
	Admins             int
}

// rolePattern spreads roles over virtual users: 14 dispatchers, 5 billers and 1 admin in
// every 20 (70/25/5 %), with a biller second so that even a handful of users bills.
var rolePattern = []string{
	roleDispatcher, roleBiller, roleDispatcher, roleDispatcher, roleAdmin,
	roleDispatcher, roleBiller, roleDispatcher, roleDispatcher, roleDispatcher,
	roleBiller, roleDispatcher, roleDispatcher, roleDispatcher, roleBiller,
	roleDispatcher, roleDispatcher, roleDispatcher, roleBiller, roleDispatcher,
}

// assignment is the role and seeded username of one virtual user.
type assignment struct {
	role     string
	username string
}

// assign gives n virtual users their roles and usernames; the k-th user of a role signs in
// as that role's seeded user k mod count, dispatchers taken area by area in turn.
func (s seededUsers) assign(n int, onlyDispatchers bool) []assignment {
	out := make([]assignment, n)
	seen := map[string]int{}
	for i := range out {
		role := rolePattern[i%len(rolePattern)]
		if onlyDispatchers {
			role = roleDispatcher
		}
		out[i] = assignment{role: role, username: s.username(role, seen[role])}
		seen[role]++
	}
	return out
}

func (s seededUsers) username(role string, k int) string {
	switch role {
	case roleBiller:
		return fmt.Sprintf("%s%d", s.BillerPrefix, k%s.Billers+1)
	case roleAdmin:
		return fmt.Sprintf("%s%d", s.AdminPrefix, k%s.Admins+1)
	}
	area := s.Areas[k%len(s.Areas)]
	return fmt.Sprintf("%s%s_%d", s.DispatcherPrefix, area, (k/len(s.Areas))%s.DispatchersPerArea+1)
}

// all lists every seeded user, for the login storm.
func (s seededUsers) all() []string {
	var names []string
	for k := range len(s.Areas) * s.DispatchersPerArea {
		names = append(names, s.username(roleDispatcher, k))
	}
	for k := range s.Billers {
		names = append(names, s.username(roleBiller, k))
	}
	for k := range s.Admins {
		names = append(names, s.username(roleAdmin, k))
	}
	return names
}

func (s seededUsers) validate() error {
	if len(s.Areas) == 0 || s.DispatchersPerArea < 1 || s.Billers < 1 || s.Admins < 1 {
		return fmt.Errorf("need at least one area, one dispatcher per area, one biller and one admin")
	}
	return nil
}
