#!/bin/sh
# azd postprovision: Microsoft Graph application permissions for grantguard's identity. An admin
# consent, which Bicep cannot grant: given here with `az rest` (appRoleAssignedTo on Microsoft
# Graph's service principal). Needs a Privileged Role Administrator or Global Administrator; when
# the signed-in user is neither, the commands are printed for an administrator to run.
#
# Least privilege: User.Read.All, Application.Read.All and GroupMember.Read.All instead of
# Directory.Read.All; AuditLog.Read.All for signInActivity.
set -eu

principal=$(azd env get-value GRANTGUARD_IDENTITY_PRINCIPAL_ID)
graph=$(az rest --method get --url "https://graph.microsoft.com/v1.0/servicePrincipals(appId='00000003-0000-0000-c000-000000000000')" --query id --output tsv)

# name=id of Microsoft Graph's application permissions (Microsoft Graph permissions reference).
permissions="User.Read.All=df021288-bdef-4463-88db-98f22de89214
Application.Read.All=9a5d68dd-52b0-4cc2-bd40-abcf44ac3a30
GroupMember.Read.All=98830695-27a2-44f7-8c18-0c3ebc9698f6
AuditLog.Read.All=b0afded3-3588-46d8-8b3d-9842eff778da"

held=$(az rest --method get --url "https://graph.microsoft.com/v1.0/servicePrincipals/$principal/appRoleAssignments" --query "value[].appRoleId" --output tsv 2>/dev/null || true)
failed=""
for entry in $permissions; do
  name=${entry%%=*}
  role=${entry#*=}
  if printf '%s\n' "$held" | grep -qi "$role"; then
    echo "grantguard: $name already granted"
    continue
  fi
  body="{\"principalId\": \"$principal\", \"resourceId\": \"$graph\", \"appRoleId\": \"$role\"}"
  if az rest --method post --url "https://graph.microsoft.com/v1.0/servicePrincipals/$graph/appRoleAssignedTo" --headers "Content-Type=application/json" --body "$body" >/dev/null 2>&1; then
    echo "grantguard: granted $name"
  else
    failed="$failed
az rest --method post --url https://graph.microsoft.com/v1.0/servicePrincipals/$graph/appRoleAssignedTo --headers Content-Type=application/json --body '$body'   # $name"
  fi
done
if [ -n "$failed" ]; then
  echo "grantguard: could not grant every Microsoft Graph permission (an administrator must consent). Ask one to run:$failed"
  echo "then check with: npx grantguard doctor --app $(azd env get-value GRANTGUARD_FUNCTION_APP_ID)"
fi
