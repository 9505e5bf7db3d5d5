#!/usr/bin/env bats
# acr-role.sh against a recording az stub.

# shellcheck disable=SC2154,SC2016 # bats sets $stderr; single-quoted $ are literal on purpose
bats_require_minimum_version 1.5.0
load helpers

TENANT=11111111-2222-3333-4444-555555555555
APP=aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee
SCOPE=/subscriptions/s1/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/myreg

setup() {
  stub_commands az
  answer az 'account show *' 0 "$TENANT\n"
  answer az 'acr show --name myreg *' 0 "$SCOPE\n"
}

sp_missing() {
  answer az 'ad sp list *' 0 ''
  answer az 'ad sp create-for-rbac *' 0 "$APP\tS3cr\$t~x.y\n"
}

sp_present() {
  answer az 'ad sp list *' 0 "$APP\n"
  answer az 'role assignment list *' 0 '1\n'
}

@test "creates the principal with AcrPull on the one registry and prints the four lines" {
  sp_missing
  run --separate-stderr "$SCRIPTS_DIR/acr-role.sh" --registry myreg
  [ "$status" -eq 0 ]
  [ "$output" = "AZURE_REGISTRY=myreg
AZURE_TENANT_ID=$TENANT
AZURE_CLIENT_ID=$APP
AZURE_CLIENT_SECRET='S3cr\$t~x.y'" ]
  called_in_order "az account show" "az acr show --name myreg" "az ad sp list --display-name berth-acr-pull-myreg" \
    "az ad sp create-for-rbac --name berth-acr-pull-myreg --role AcrPull --scopes $SCOPE"
}

@test "a re-run changes nothing and does not print a secret it does not have" {
  sp_present
  run --separate-stderr "$SCRIPTS_DIR/acr-role.sh" --registry myreg.azurecr.io
  [ "$status" -eq 0 ]
  [ "$output" = "AZURE_REGISTRY=myreg
AZURE_TENANT_ID=$TENANT
AZURE_CLIENT_ID=$APP" ]
  [[ $stderr == *"AZURE_CLIENT_SECRET is not shown again"*--reset-secret* ]]
  called_in_order "az ad sp list" "az role assignment list --assignee $APP --scope $SCOPE --role AcrPull"
  not_called 'create|reset'
}

@test "create, then re-run: the second run only looks" {
  sp_missing
  run "$SCRIPTS_DIR/acr-role.sh" --registry myreg
  [ "$status" -eq 0 ]
  forget_answers; clear_calls; setup; sp_present
  run "$SCRIPTS_DIR/acr-role.sh" --registry myreg
  [ "$status" -eq 0 ]
  not_called 'create|reset'
}

@test "an existing principal without the role gets only the role assignment" {
  answer az 'ad sp list *' 0 "$APP\n"
  answer az 'role assignment list *' 0 '0\n'
  answer az 'role assignment create *' 0 ''
  run --separate-stderr "$SCRIPTS_DIR/acr-role.sh" --registry myreg
  [ "$status" -eq 0 ]
  called_in_order "az role assignment list" "az role assignment create --assignee $APP --role AcrPull --scope $SCOPE"
  not_called 'create-for-rbac|credential reset'
}

@test "--reset-secret issues a new secret for the existing principal" {
  sp_present
  answer az 'ad sp credential reset *' 0 'n3w-secret\n'
  run --separate-stderr "$SCRIPTS_DIR/acr-role.sh" --registry myreg --reset-secret
  [ "$status" -eq 0 ]
  [[ $output == *"AZURE_CLIENT_SECRET=n3w-secret" ]]
  called_in_order "az role assignment list" "az ad sp credential reset --id $APP"
}

@test "--dry-run looks but creates nothing" {
  sp_missing
  run --separate-stderr "$SCRIPTS_DIR/acr-role.sh" --registry myreg --dry-run
  [ "$status" -eq 0 ]
  not_called 'create-for-rbac'
  [[ $stderr == *"dry run: would call: az ad sp create-for-rbac --name berth-acr-pull-myreg --role AcrPull --scopes $SCOPE"* ]]
  [[ $output == *"AZURE_CLIENT_ID='<created on a real run>'"* ]]
}

@test "an unknown registry names the step" {
  answer az 'acr show --name other *' 3 '' "ERROR: The resource with name 'other' and type 'Microsoft.ContainerRegistry/registries' could not be found\n"
  run --separate-stderr "$SCRIPTS_DIR/acr-role.sh" --registry other
  [ "$status" -eq 1 ]
  [ -z "$output" ]
  [[ $stderr == *'step "find registry other (az acr show)" failed'*"could not be found"* ]]
}

@test "not logged in: the tenant step fails with az's message" {
  forget_answers
  answer az 'account show *' 1 '' "ERROR: Please run 'az login' to setup account.\n"
  run --separate-stderr "$SCRIPTS_DIR/acr-role.sh" --registry myreg
  [ "$status" -eq 1 ]
  [[ $stderr == *'step "read the Azure tenant (az account show)" failed'*"az login"* ]]
}

@test "a failed create names its step" {
  answer az 'ad sp list *' 0 ''
  answer az 'ad sp create-for-rbac *' 1 '' 'ERROR: Insufficient privileges to complete the operation.\n'
  run --separate-stderr "$SCRIPTS_DIR/acr-role.sh" --registry myreg
  [ "$status" -eq 1 ]
  [ -z "$output" ]
  [[ $stderr == *'step "create service principal berth-acr-pull-myreg with AcrPull on myreg (az ad sp create-for-rbac)" failed'*Insufficient* ]]
}

@test "without az it says how to install it; without --registry it says what is missing" {
  PATH=$(path_without az) run --separate-stderr "$SCRIPTS_DIR/acr-role.sh" --registry myreg
  [ "$status" -eq 1 ]
  [[ $stderr == *'step "check for az" failed: az is not installed; install the Azure CLI'* ]]
  run --separate-stderr "$SCRIPTS_DIR/acr-role.sh"
  [ "$status" -eq 2 ]
  [[ $stderr == *"--registry is required"* ]]
  run --separate-stderr "$SCRIPTS_DIR/acr-role.sh" --registry 'my-reg!'
  [ "$status" -eq 2 ]
  [[ $stderr == *"--registry 'my-reg!' is not an ACR name"* ]]
}
