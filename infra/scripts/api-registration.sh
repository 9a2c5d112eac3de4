#!/bin/sh
# azd preprovision: grantguard's API app registration, the audience of its HTTP API, with its app
# roles. A directory object, so Bicep cannot make it; made (or found) here with Microsoft Graph
# through `az rest`, and its client id stored in the azd environment for infra/main.bicep.
# Needs: az login as someone who may create applications (Application Developer or more).
set -eu

existing=$(azd env get-value GRANTGUARD_API_CLIENT_ID 2>/dev/null || true)
if [ -n "$existing" ] && az rest --method get --url "https://graph.microsoft.com/v1.0/applications(appId='$existing')?\$select=id" >/dev/null 2>&1; then
  echo "grantguard: API app registration $existing exists"
  exit 0
fi

env_name=$(azd env get-value AZURE_ENV_NAME)
# App role ids are fixed, so a re-run updates the same roles instead of adding new ones.
body=$(cat <<JSON
{
  "displayName": "grantguard API ($env_name)",
  "signInAudience": "AzureADMyOrg",
  "api": { "requestedAccessTokenVersion": 2 },
  "appRoles": [
    { "id": "3c0d7f5e-8a41-4f5b-9d2e-6b1a0c9e4f71", "value": "GrantGuard.SecurityAdmin", "displayName": "grantguard security admin",
      "description": "Read findings and the audit trail; exempt, acknowledge and restore.", "allowedMemberTypes": ["User", "Application"], "isEnabled": true },
    { "id": "7e2b9c14-5d6a-4e38-b0f1-2a9c8d7e6b53", "value": "GrantGuard.Auditor", "displayName": "grantguard auditor",
      "description": "Read findings and the audit trail, and verify it.", "allowedMemberTypes": ["User", "Application"], "isEnabled": true }
  ]
}
JSON
)
app_id=$(az rest --method post --url "https://graph.microsoft.com/v1.0/applications" --headers "Content-Type=application/json" --body "$body" --query appId --output tsv)
# A service principal makes the app usable in this tenant (users can then be given its roles).
az rest --method post --url "https://graph.microsoft.com/v1.0/servicePrincipals" --headers "Content-Type=application/json" --body "{\"appId\": \"$app_id\"}" >/dev/null
# The findings page signs people in for this API: an identifier URI and a delegated scope it asks for
# (api://{client id}/user_impersonation); the page's redirect URI is added after deploy, once the
# function app's host name is known (subscribe-events.sh).
object_id=$(az rest --method get --url "https://graph.microsoft.com/v1.0/applications(appId='$app_id')?\$select=id" --query id --output tsv)
az rest --method patch --url "https://graph.microsoft.com/v1.0/applications/$object_id" --headers "Content-Type=application/json" --body "{
  \"identifierUris\": [\"api://$app_id\"],
  \"api\": { \"requestedAccessTokenVersion\": 2, \"oauth2PermissionScopes\": [
    { \"id\": \"5a6c2e1d-9b4f-4c3a-8e7d-1f0b2c3d4e5f\", \"value\": \"user_impersonation\", \"type\": \"User\", \"isEnabled\": true,
      \"adminConsentDisplayName\": \"Use grantguard's API as you\", \"adminConsentDescription\": \"Lets the findings page call grantguard's API as the signed-in person, within their app roles.\",
      \"userConsentDisplayName\": \"Use grantguard's API as you\", \"userConsentDescription\": \"Lets the findings page call grantguard's API as you.\" } ] }
}" >/dev/null
azd env set GRANTGUARD_API_CLIENT_ID "$app_id"
echo "grantguard: created API app registration $app_id; assign its app roles to people in Entra ID (Enterprise applications)."
