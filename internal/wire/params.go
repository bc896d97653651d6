package wire

import (
	"maps"
	"net/url"
	"slices"

	"golang.org/x/oauth2"
)

// OptionParams returns the parameters that opts would add to a request, in
// the order of their names, so
// that a provider's Exchange honours oauth2.SetAuthURLParam and the PKCE
// options. oauth2.AuthCodeOption cannot be read from outside x/oauth2, so an
// oauth2.Config builds a URL with them and the query is read back.
func OptionParams(opts []oauth2.AuthCodeOption) []Param {
	if len(opts) == 0 {
		return nil
	}
	raw := (&oauth2.Config{}).AuthCodeURL("", opts...)
	u, err := url.Parse(raw)
	if err != nil {
		return nil
	}
	q := u.Query()
	var ps []Param
	for _, k := range slices.Sorted(maps.Keys(q)) { // a map has no order: sort, so requests are reproducible
		if k == "response_type" || k == "client_id" {
			continue
		}
		for _, v := range q[k] {
			ps = append(ps, Param{Key: k, Value: v})
		}
	}
	return ps
}

// WithOptions returns params with what opts add: a parameter an option
// names replaces the one of the same key, others are appended. Every
// provider's Exchange follows this one rule.
func WithOptions(params []Param, opts []oauth2.AuthCodeOption) []Param {
	for _, o := range OptionParams(opts) {
		i := 0
		for ; i < len(params) && params[i].Key != o.Key; i++ {
		}
		if i < len(params) {
			params[i] = o
		} else {
			params = append(params, o)
		}
	}
	return params
}
