// grantguard on Azure Functions Flex Consumption, in one resource group, with one user-assigned
// managed identity that holds exactly the rights the product uses. Deployed by `azd up`
// (azure.yaml); the Event Grid subscriptions are infra/events.bicep, deployed after the code.
targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('Name of the azd environment: names the resource group and seeds a short unique suffix.')
param environmentName string

@minLength(1)
@description('Region of the function app and its resources (one that offers Flex Consumption).')
@metadata({ azd: { type: 'location' } })
param location string

@description('audit: record and alert what would be revoked. enforce: also revoke, which adds a delete right on role assignments at the watched scopes and nothing else.')
@allowed(['audit', 'enforce'])
param mode string = 'audit'

@description('Subscriptions whose role assignments grantguard watches: ids, comma-separated. Empty: the subscription of this deployment.')
param watchedSubscriptionIds string = ''

@description('A management group to read role assignments at (the sweep sees its assignments and those of every subscription below it). Empty: none; the deployer needs rights there to set it.')
param watchedManagementGroupId string = ''

@description('Resource id of an existing Log Analytics workspace holding SigninLogs and AzureActivity. Empty: a new workspace is created (route the Entra ID and activity logs to it).')
param existingLogAnalyticsWorkspaceId string = ''

@description('Client id of grantguard\'s API app registration (infra/scripts/api-registration.sh sets it); empty: the HTTP API refuses every call.')
param apiClientId string = ''

@description('Object ids of principals grantguard never revokes, comma-separated (break-glass accounts).')
param protectedPrincipals string = ''

@description('Scopes grantguard never revokes at, comma-separated.')
param protectedScopes string = ''

@description('At most this many revocations per window before revocation stops itself.')
param maxRevocations int = 5

@description('When the standing sweep runs: an NCRONTAB expression of six fields (UTC). Daily at 03:00 by default.')
param sweepSchedule string = '0 0 3 * * *'

@minValue(1)
@description('Days each signed digest of the audit trail is kept immutable (the container\'s time-based retention).')
param auditRetentionDays int = 2555

@secure()
@description('Microsoft Teams incoming webhook URL (kept in Key Vault). Empty: no Teams alerts.')
param teamsWebhookUrl string = ''

@secure()
@description('Slack incoming webhook URL (kept in Key Vault). Empty: no Slack alerts.')
param slackWebhookUrl string = ''

@secure()
@description('Generic webhook URL (kept in Key Vault). Empty: no generic webhook.')
param webhookUrl string = ''

@secure()
@description('Secret that signs generic webhook deliveries, at least 32 characters (kept in Key Vault).')
param webhookSecret string = ''

@description('Object id of the person or pipeline running azd: gets read access to grantguard\'s tables for the command line. Empty: none.')
param principalId string = ''

@description('principalType of principalId.')
@allowed(['User', 'ServicePrincipal'])
param principalType string = 'User'

var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = { 'azd-env-name': environmentName }
var watched = empty(watchedSubscriptionIds) ? [subscription().subscriptionId] : map(split(watchedSubscriptionIds, ','), s => trim(s))

resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: 'rg-grantguard-${environmentName}'
  location: location
  tags: tags
}

module app 'app/resources.bicep' = {
  name: 'grantguard-resources'
  scope: rg
  params: {
    location: location
    tags: tags
    resourceToken: resourceToken
    mode: mode
    existingLogAnalyticsWorkspaceId: existingLogAnalyticsWorkspaceId
    apiClientId: apiClientId
    protectedPrincipals: protectedPrincipals
    protectedScopes: protectedScopes
    maxRevocations: maxRevocations
    auditRetentionDays: auditRetentionDays
    sweepSchedule: sweepSchedule
    teamsWebhookUrl: teamsWebhookUrl
    slackWebhookUrl: slackWebhookUrl
    webhookUrl: webhookUrl
    webhookSecret: webhookSecret
    operatorPrincipalId: principalId
    operatorPrincipalType: principalType
  }
}

// Log Analytics Reader on a workspace that lives elsewhere (a new one gets it in resources.bicep).
module existingWorkspaceReader 'app/workspace-reader.bicep' = if (!empty(existingLogAnalyticsWorkspaceId)) {
  name: 'grantguard-workspace-reader'
  scope: resourceGroup(split(existingLogAnalyticsWorkspaceId, '/')[2], split(existingLogAnalyticsWorkspaceId, '/')[4])
  params: {
    workspaceName: last(split(existingLogAnalyticsWorkspaceId, '/'))
    principalId: app.outputs.identityPrincipalId
  }
}

// The custom roles are defined once, at this subscription, assignable at every watched one.
module roles 'app/roles.bicep' = {
  name: 'grantguard-roles'
  params: {
    assignableScopes: map(watched, s => '/subscriptions/${s}')
    enforce: mode == 'enforce'
  }
}

module watch 'app/watch.bicep' = [
  for s in watched: {
    name: 'grantguard-watch-${s}'
    scope: subscription(s)
    params: {
      principalId: app.outputs.identityPrincipalId
      readerRoleId: roles.outputs.readerRoleId
      revokerRoleId: roles.outputs.revokerRoleId
      enforce: mode == 'enforce'
    }
  }
]

module watchManagementGroup 'app/watch-management-group.bicep' = if (!empty(watchedManagementGroupId)) {
  name: 'grantguard-watch-mg'
  scope: managementGroup(watchedManagementGroupId)
  params: {
    principalId: app.outputs.identityPrincipalId
  }
}

output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output GRANTGUARD_FUNCTION_APP_ID string = app.outputs.functionAppId
output GRANTGUARD_FUNCTION_APP_NAME string = app.outputs.functionAppName
output GRANTGUARD_IDENTITY_ID string = app.outputs.identityId
output GRANTGUARD_IDENTITY_PRINCIPAL_ID string = app.outputs.identityPrincipalId
output GRANTGUARD_IDENTITY_CLIENT_ID string = app.outputs.identityClientId
output GRANTGUARD_STORAGE_ACCOUNT_ID string = app.outputs.storageAccountId
output GRANTGUARD_DEAD_LETTER_CONTAINER string = app.outputs.deadLetterContainer
output GRANTGUARD_WATCHED_SUBSCRIPTION_IDS string = join(watched, ',')
