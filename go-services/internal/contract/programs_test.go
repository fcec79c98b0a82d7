package contract_test

import (
	"os/exec"
	"regexp"
	"strconv"
	"testing"

	"github.com/blackfriday-operator/go-services/internal/contract"
	"github.com/blackfriday-operator/go-services/internal/testenv"
)

// usageLine is one flag of a program's -h (config.PrintUsage): `  -name / ENV (default "value")`.
var usageLine = regexp.MustCompile(`(?m)^  -\S+ / (\S+) \(default "([^"]*)"\)$`)

// Each Go program reads every variable contract/env.json lists for it (the operator's tests check
// it sets exactly those) and listens on contract/ports.json's ports by default. Read from the
// built program's own -h, so the flag table in main.go is what is checked.
func TestProgramsReadTheContractsVariablesAndListenOnItsPorts(t *testing.T) {
	var env struct {
		Programs map[string][]string `json:"programs"`
	}
	contract.Load(t, "env.json", &env)
	var ports struct {
		Programs map[string]map[string]int `json:"programs"`
	}
	contract.Load(t, "ports.json", &ports)
	// Which variable holds each port role's listen address.
	listenVar := map[string]map[string]string{
		"grpc-client": {"http": "LISTEN"},
		"grpc-server": {"grpc": "GRPC_LISTEN", "metrics": "METRICS_LISTEN"},
		"consumer":    {"metrics": "METRICS_LISTEN"},
	}
	for program, roles := range listenVar {
		out, err := exec.Command(testenv.Binary(t, "cmd/"+program), "-h").CombinedOutput()
		if err != nil {
			t.Fatalf("%s -h: %v\n%s", program, err, out)
		}
		defaults := map[string]string{}
		for _, m := range usageLine.FindAllStringSubmatch(string(out), -1) {
			defaults[m[1]] = m[2]
		}
		if len(env.Programs[program]) == 0 {
			t.Errorf("%s: no variables in contract/env.json", program)
		}
		for _, name := range env.Programs[program] {
			if _, ok := defaults[name]; !ok {
				t.Errorf("%s reads no %s (its -h lists %v)", program, name, defaults)
			}
		}
		for role, variable := range roles {
			want := ports.Programs[program][role]
			if got := defaults[variable]; want == 0 || got != ":"+strconv.Itoa(want) {
				t.Errorf("%s %s port: %s defaults to %q, contract/ports.json says %d", program, role, variable, got, want)
			}
		}
	}
}
