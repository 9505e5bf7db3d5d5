#!/usr/bin/env bats
# gcp-role.sh against a recording gcloud stub.

# shellcheck disable=SC2154,SC2016 # bats sets $stderr; single-quoted $ are literal on purpose
bats_require_minimum_version 1.5.0
load helpers

EMAIL=berth-registry-read@my-proj.iam.gserviceaccount.com
KEY_FIXTURE=$BATS_TEST_DIRNAME/fixtures/gcp-key.json

setup() {
  stub_commands gcloud
  cd "$BATS_TEST_TMPDIR" || return
}

account_missing() {
  answer gcloud 'iam service-accounts describe *' 1 '' "ERROR: (gcloud.iam.service-accounts.describe) NOT_FOUND: Unknown service account\n"
  answer gcloud 'iam service-accounts create *' 0 ''
  answer gcloud 'projects get-iam-policy *' 0 ''
  answer gcloud 'projects add-iam-policy-binding *' 0 ''
  answer gcloud 'iam service-accounts keys create *' 0 "@$KEY_FIXTURE"
}

account_present() {
  answer gcloud 'iam service-accounts describe *' 0 "$EMAIL\n"
  answer gcloud "projects get-iam-policy *" 0 'roles/artifactregistry.reader\n'
}

expected_json() {
  python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1])), separators=(",", ":")))' "$KEY_FIXTURE"
}

@test "Artifact Registry: creates the account, grants artifactregistry.reader, writes a key, prints three lines" {
  account_missing
  run --separate-stderr "$SCRIPTS_DIR/gcp-role.sh" --registry europe-west1-docker.pkg.dev --project my-proj
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = "GCP_REGISTRY_URL=europe-west1-docker.pkg.dev" ]
  [ "${lines[1]}" = "GCP_PROJECT=my-proj" ]
  [ "${lines[2]}" = "GCP_SERVICE_ACCOUNT_JSON='$(expected_json)'" ]
  [ "${#lines[@]}" -eq 3 ]
  called_in_order "gcloud iam service-accounts describe $EMAIL --project my-proj" \
    "gcloud iam service-accounts create berth-registry-read --project my-proj" \
    "gcloud projects get-iam-policy my-proj" \
    "gcloud projects add-iam-policy-binding my-proj --member serviceAccount:$EMAIL --role roles/artifactregistry.reader" \
    "gcloud iam service-accounts keys create ./berth-registry-read-key.json --iam-account $EMAIL"
  [ "$(stat -c %a berth-registry-read-key.json)" = 600 ]
}

@test "GCR: the role is storage.objectViewer" {
  account_missing
  run --separate-stderr "$SCRIPTS_DIR/gcp-role.sh" --registry gcr.io --project my-proj
  [ "$status" -eq 0 ]
  grep -q -- "--role roles/storage.objectViewer" "$STUB_LOG"
  not_called 'artifactregistry'
}

@test "a re-run with the key file in place changes nothing and prints the same lines" {
  account_missing
  run --separate-stderr "$SCRIPTS_DIR/gcp-role.sh" --registry europe-west1-docker.pkg.dev --project my-proj
  [ "$status" -eq 0 ]
  local first=$output
  forget_answers; clear_calls; account_present
  run --separate-stderr "$SCRIPTS_DIR/gcp-role.sh" --registry europe-west1-docker.pkg.dev --project my-proj
  [ "$status" -eq 0 ]
  [ "$output" = "$first" ]
  not_called 'create|add-iam-policy-binding'
  [[ $stderr == *"using the key already in ./berth-registry-read-key.json"* ]]
}

@test "the project comes from gcloud config when not given" {
  answer gcloud 'config get-value project' 0 'my-proj\n'
  account_present
  cp "$KEY_FIXTURE" berth-registry-read-key.json
  run --separate-stderr "$SCRIPTS_DIR/gcp-role.sh" --registry europe-west1-docker.pkg.dev
  [ "$status" -eq 0 ]
  [ "${lines[1]}" = "GCP_PROJECT=my-proj" ]
  called_in_order "gcloud config get-value project" "gcloud iam service-accounts describe $EMAIL"
}

@test "a key file of another account is refused, by name" {
  account_present
  sed 's/berth-registry-read@/someone-else@/' "$KEY_FIXTURE" >other.json
  run --separate-stderr "$SCRIPTS_DIR/gcp-role.sh" --registry gcr.io --project my-proj --key-file other.json
  [ "$status" -eq 1 ]
  [ -z "$output" ]
  [[ $stderr == *'step "read the key file other.json" failed: it is a key of someone-else@my-proj.iam.gserviceaccount.com'* ]]
}

@test "--dry-run looks but creates no account, binding or key" {
  account_missing
  run --separate-stderr "$SCRIPTS_DIR/gcp-role.sh" --registry europe-west1-docker.pkg.dev --project my-proj --dry-run
  [ "$status" -eq 0 ]
  not_called 'service-accounts create|add-iam-policy-binding|keys create'
  [ ! -e berth-registry-read-key.json ]
  [[ $stderr == *"dry run: would call: gcloud iam service-accounts create berth-registry-read"* ]]
  [[ $stderr == *"dry run: would call: gcloud iam service-accounts keys create ./berth-registry-read-key.json"* ]]
}

@test "a refused binding names its step" {
  account_missing
  forget_answers
  answer gcloud 'iam service-accounts describe *' 0 "$EMAIL\n"
  answer gcloud 'projects get-iam-policy *' 0 ''
  answer gcloud 'projects add-iam-policy-binding *' 1 '' "ERROR: (gcloud.projects.add-iam-policy-binding) PERMISSION_DENIED: Policy update access denied.\n"
  run --separate-stderr "$SCRIPTS_DIR/gcp-role.sh" --registry gcr.io --project my-proj
  [ "$status" -eq 1 ]
  [ -z "$output" ]
  [[ $stderr == *'step "grant roles/storage.objectViewer to '"$EMAIL"' (gcloud projects add-iam-policy-binding)" failed'*PERMISSION_DENIED* ]]
  not_called 'keys create'
}

@test "bad inputs are named; without gcloud it says how to install it" {
  run --separate-stderr "$SCRIPTS_DIR/gcp-role.sh" --registry quay.io --project my-proj
  [ "$status" -eq 2 ]
  [[ $stderr == *"--registry 'quay.io' is neither LOCATION-docker.pkg.dev nor a gcr.io host"* ]]
  run --separate-stderr "$SCRIPTS_DIR/gcp-role.sh" --project my-proj
  [ "$status" -eq 2 ]
  [[ $stderr == *"--registry is required"* ]]
  PATH=$(path_without gcloud) run --separate-stderr "$SCRIPTS_DIR/gcp-role.sh" --registry gcr.io --project my-proj
  [ "$status" -eq 1 ]
  [[ $stderr == *'step "check for gcloud" failed: gcloud is not installed; install the Google Cloud CLI'* ]]
}
