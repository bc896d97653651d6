package toutiao_test

import (
	"context"
	"encoding/json"
	"testing"

	"golang.org/x/oauth2"

	"github.com/oauth2x/oauth2x/toutiao"
	"github.com/oauth2x/oauth2x/toutiao/toutiaotest"
)

// TestEndpointReassignmentAndNewClient: an empty Config.Endpoint means
// toutiao.Endpoint at the time of the call, and NewClient sends a source's
// token in the access-token header, which the API reads.
func TestEndpointReassignmentAndNewClient(t *testing.T) {
	fake := toutiaotest.NewServer()
	defer fake.Close()
	saved := toutiao.Endpoint
	defer func() { toutiao.Endpoint = saved }()
	toutiao.Endpoint = fake.Endpoint()
	conf := &toutiao.Config{ClientKey: fake.ClientKey, ClientSecret: fake.ClientSecret}
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, fake.Client())
	tok, err := conf.Exchange(ctx, fake.IssueCode("user_info"))
	if err != nil {
		t.Fatal(err)
	}
	if tok, err = conf.Refresh(ctx, tok); err != nil {
		t.Fatal(err)
	}
	resp, err := toutiao.NewClient(ctx, oauth2.StaticTokenSource(tok)).Get(fake.URL + toutiaotest.APIPath)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var a toutiaotest.APIAnswer
	if err := json.NewDecoder(resp.Body).Decode(&a); err != nil || a.Data.OpenID != fake.OpenID {
		t.Errorf("API answered %+v, %v", a.Data, err)
	}
}
