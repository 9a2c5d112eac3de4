#!/bin/sh
# azd postdeploy: an Event Grid system topic on every watched subscription and its subscription
# to judgeGrantEvent. After the code is deployed, as Event Grid checks that the function exists.
set -eu

subscriptions=$(azd env get-value GRANTGUARD_WATCHED_SUBSCRIPTION_IDS)
env_name=$(azd env get-value AZURE_ENV_NAME)
location=$(azd env get-value AZURE_LOCATION)
app=$(azd env get-value GRANTGUARD_FUNCTION_APP_ID)
identity=$(azd env get-value GRANTGUARD_IDENTITY_ID)
storage=$(azd env get-value GRANTGUARD_STORAGE_ACCOUNT_ID)
container=$(azd env get-value GRANTGUARD_DEAD_LETTER_CONTAINER)
home=$(azd env get-value AZURE_RESOURCE_GROUP)

for subscription in $(echo "$subscriptions" | tr ',' ' '); do
  # The system topic lives in the subscription it watches: grantguard's group at home, its own elsewhere.
  group="rg-grantguard-events-$env_name"
  case "$app" in "/subscriptions/$subscription/"*) group=$home ;; esac
  az deployment sub create \
    --subscription "$subscription" \
    --location "$location" \
    --name "grantguard-events-$env_name" \
    --template-file infra/events.bicep \
    --parameters resourceGroupName="$group" location="$location" functionAppId="$app" identityId="$identity" \
      storageAccountId="$storage" deadLetterContainer="$container" tags="{\"azd-env-name\":\"$env_name\"}" \
    --output none
  echo "grantguard: subscription $subscription sends its role-assignment events to judgeGrantEvent"
done
# The findings page signs in as a single-page application of the API's registration: its redirect URI
# is the deployed page (the host name exists only now).
client_id=$(azd env get-value GRANTGUARD_API_CLIENT_ID 2>/dev/null || true)
if [ -n "$client_id" ]; then
  host=$(az functionapp show --ids "$app" --query defaultHostName --output tsv)
  object_id=$(az rest --method get --url "https://graph.microsoft.com/v1.0/applications(appId='$client_id')?\$select=id" --query id --output tsv)
  az rest --method patch --url "https://graph.microsoft.com/v1.0/applications/$object_id" --headers "Content-Type=application/json" \
    --body "{\"spa\": {\"redirectUris\": [\"https://$host/api/page\"]}}" >/dev/null
  echo "grantguard: the findings page is at https://$host/api/page"
fi
echo "grantguard: check the deployment with: npx grantguard doctor --app $app"
