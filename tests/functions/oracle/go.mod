// The differential oracle: the real drone/envsubst and go-sdk stack parser that faas-cli 0.18.12
// vendors, run over JSON cases (see main.go and run.sh). Not part of the library or its build.
module sovereign-faas/tests/functions/oracle

go 1.24

require (
	github.com/drone/envsubst v1.0.3
	github.com/openfaas/go-sdk v0.2.22
	gopkg.in/yaml.v3 v3.0.1
)

require github.com/ryanuber/go-glob v1.0.0 // indirect
