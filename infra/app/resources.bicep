// Everything grantguard runs on, in its resource group: identity, storage (host, state, dead
// letters), Flex Consumption function app, monitoring, Key Vault; and the identity's rights on
// these resources only. No key, connection string or secret is written into a setting.
param location string
param tags object
param resourceToken string
@allowed(['audit', 'enforce'])
param mode string
param existingLogAnalyticsWorkspaceId string
param apiClientId string
param protectedPrincipals string
param protectedScopes string
param maxRevocations int
param auditRetentionDays int
param sweepSchedule string
@secure()
param teamsWebhookUrl string
@secure()
param slackWebhookUrl string
@secure()
param webhookUrl string
@secure()
param webhookSecret string
param operatorPrincipalId string
param operatorPrincipalType string

// Built-in role definition GUIDs (Microsoft Learn, "Azure built-in roles"); checked by test/unit/infra.
var roles = {
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  storageBlobDataContributor: 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
  storageTableDataReader: '76199698-9eea-4c19-bc75-cec21354c6b6'
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb'
  logAnalyticsReader: '73c42c96-874c-492b-b04d-ab87d138a893'
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6'
  keyVaultCryptoUser: '12338af0-0e69-4776-bea7-57ae8d297424'
}

var functionAppName = 'func-grantguard-${resourceToken}'
var deploymentContainer = 'app-package-${take(resourceToken, 12)}'
var deadLetterContainer = 'event-dead-letters'
var auditContainer = 'audit-digests'
var sweepQueue = 'sweep-shards'
var sweepContainer = 'sweeps'
var signingKeyName = 'grantguard-audit'

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: 'id-grantguard-${resourceToken}'
  location: location
  tags: tags
}

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: 'stgg${resourceToken}'
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: { name: 'Standard_LRS' }
  properties: {
    allowSharedKeyAccess: false
    allowBlobPublicAccess: false
    defaultToOAuthAuthentication: true
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    publicNetworkAccess: 'Enabled'
    networkAcls: { defaultAction: 'Allow', bypass: 'AzureServices' }
  }
  resource blobs 'blobServices' = {
    name: 'default'
    resource deployment 'containers' = { name: deploymentContainer }
    resource deadLetters 'containers' = { name: deadLetterContainer }
    resource sweeps 'containers' = { name: sweepContainer }
    // The audit trail's signed digests: append blobs under a time-based retention policy that
    // still lets blocks be appended (allowProtectedAppendWrites), so a digest once written can be
    // neither overwritten nor deleted. Lock the policy once it is right (docs/deploy.md).
    resource audit 'containers' = {
      name: auditContainer
      resource retention 'immutabilityPolicies' = {
        name: 'default'
        properties: {
          immutabilityPeriodSinceCreationInDays: auditRetentionDays
          allowProtectedAppendWrites: true
        }
      }
    }
  }
  resource queues 'queueServices' = {
    name: 'default'
    resource sweep 'queues' = { name: sweepQueue }
  }
  resource tables 'tableServices' = {
    name: 'default'
  }
}

resource newWorkspace 'Microsoft.OperationalInsights/workspaces@2023-09-01' = if (empty(existingLogAnalyticsWorkspaceId)) {
  name: 'log-grantguard-${resourceToken}'
  location: location
  tags: tags
  properties: {
    sku: { name: 'PerGB2018' }
    retentionInDays: 90
  }
}

resource existingWorkspace 'Microsoft.OperationalInsights/workspaces@2023-09-01' existing = if (!empty(existingLogAnalyticsWorkspaceId)) {
  name: last(split(existingLogAnalyticsWorkspaceId, '/'))
  scope: resourceGroup(split(existingLogAnalyticsWorkspaceId, '/')[2], split(existingLogAnalyticsWorkspaceId, '/')[4])
}

var workspaceResourceId = empty(existingLogAnalyticsWorkspaceId) ? newWorkspace.id : existingLogAnalyticsWorkspaceId
var workspaceCustomerId = empty(existingLogAnalyticsWorkspaceId) ? newWorkspace.properties.customerId : existingWorkspace.properties.customerId

resource insights 'Microsoft.Insights/components@2020-02-02' = {
  name: 'appi-grantguard-${resourceToken}'
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: workspaceResourceId
    // Entra ID only: telemetry is sent with the identity's token, never with the instrumentation key alone.
    DisableLocalAuth: true
  }
}

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: 'kv-gg-${take(resourceToken, 16)}'
  location: location
  tags: tags
  properties: {
    tenantId: tenant().tenantId
    sku: { family: 'A', name: 'standard' }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 90
    enablePurgeProtection: true
    publicNetworkAccess: 'Enabled'
  }
}

// The audit trail's signing key: it never leaves the vault; the identity may only sign and verify with it.
resource signingKey 'Microsoft.KeyVault/vaults/keys@2023-07-01' = {
  parent: vault
  name: signingKeyName
  properties: {
    kty: 'RSA'
    keySize: 3072
    keyOps: ['sign', 'verify']
  }
}

resource teamsSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = if (!empty(teamsWebhookUrl)) {
  parent: vault
  name: 'teams-webhook-url'
  properties: { value: teamsWebhookUrl }
}

resource slackSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = if (!empty(slackWebhookUrl)) {
  parent: vault
  name: 'slack-webhook-url'
  properties: { value: slackWebhookUrl }
}

resource webhookUrlSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = if (!empty(webhookUrl)) {
  parent: vault
  name: 'webhook-url'
  properties: { value: webhookUrl }
}

resource webhookSecretSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = if (!empty(webhookSecret)) {
  parent: vault
  name: 'webhook-secret'
  properties: { value: webhookSecret }
}

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: 'plan-grantguard-${resourceToken}'
  location: location
  tags: tags
  kind: 'functionapp'
  sku: { name: 'FC1', tier: 'FlexConsumption' }
  properties: { reserved: true }
}

// A Key Vault reference: the platform resolves it with the identity (keyVaultReferenceIdentity);
// the setting itself holds no secret.
var kvRef = '@Microsoft.KeyVault(VaultName=${vault.name};SecretName='

var hostSettings = {
  // Identity-based host storage (Microsoft Learn, functions-reference "Connecting to host storage with an identity").
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identity.properties.clientId
  AzureWebJobsStorage__blobServiceUri: storage.properties.primaryEndpoints.blob
  AzureWebJobsStorage__queueServiceUri: storage.properties.primaryEndpoints.queue
  AzureWebJobsStorage__tableServiceUri: storage.properties.primaryEndpoints.table
  // The sweep's queue triggers connect the same way (connection GRANTGUARD_STORAGE in functions/index.ts).
  GRANTGUARD_STORAGE__credential: 'managedidentity'
  GRANTGUARD_STORAGE__clientId: identity.properties.clientId
  GRANTGUARD_STORAGE__queueServiceUri: storage.properties.primaryEndpoints.queue
  APPLICATIONINSIGHTS_CONNECTION_STRING: insights.properties.ConnectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identity.properties.clientId};Authorization=AAD'
}

// Every setting grantguard reads (shared/config.ts), set explicitly; test/unit/infra checks that
// none is missing.
var grantguardSettings = {
  AZURE_CLIENT_ID: identity.properties.clientId
  GRANTGUARD_MODE: mode
  GRANTGUARD_ARM_ENDPOINT: environment().resourceManager
  GRANTGUARD_GRAPH_ENDPOINT: environment().graph
  GRANTGUARD_TABLE_ENDPOINT: storage.properties.primaryEndpoints.table
  GRANTGUARD_QUEUE_ENDPOINT: storage.properties.primaryEndpoints.queue
  GRANTGUARD_BLOB_ENDPOINT: storage.properties.primaryEndpoints.blob
  GRANTGUARD_LOG_ANALYTICS_WORKSPACE_ID: workspaceCustomerId
  GRANTGUARD_LOG_ANALYTICS_ENDPOINT: 'https://api.loganalytics.io/v1'
  GRANTGUARD_FINDINGS_TABLE: 'findings'
  GRANTGUARD_EVENTS_TABLE: 'grantEvents'
  GRANTGUARD_ALERTS_TABLE: 'alerts'
  GRANTGUARD_REVOCATIONS_TABLE: 'revocations'
  GRANTGUARD_POLICIES_DIR: ''
  GRANTGUARD_ROLE_CACHE_TTL_SECONDS: '3600'
  GRANTGUARD_TOKEN_TIMEOUT_MS: '30000'
  GRANTGUARD_ALERT_ROUTES: ''
  GRANTGUARD_ALERT_MAX_ATTEMPTS: '12'
  GRANTGUARD_ALERT_RETRY_BASE_SECONDS: '30'
  GRANTGUARD_ALERT_SUMMARY_THRESHOLD: '20'
  GRANTGUARD_MAX_REVOCATIONS: string(maxRevocations)
  GRANTGUARD_REVOCATION_WINDOW_MINUTES: '60'
  GRANTGUARD_PROTECTED_PRINCIPALS: protectedPrincipals
  GRANTGUARD_PROTECTED_SCOPES: protectedScopes
  GRANTGUARD_AUTH_TENANT_ID: empty(apiClientId) ? '' : tenant().tenantId
  GRANTGUARD_AUTH_AUDIENCE: apiClientId
  GRANTGUARD_AUTH_AUTHORITY: environment().authentication.loginEndpoint
  GRANTGUARD_AUDIT_TABLE: 'auditTrail'
  GRANTGUARD_ACCESS_TABLE: 'accessHistory'
  GRANTGUARD_AUDIT_CONTAINER: auditContainer
  GRANTGUARD_KEY_VAULT_URL: vault.properties.vaultUri
  GRANTGUARD_AUDIT_KEY: signingKey.name
  GRANTGUARD_SWEEP_SCHEDULE: sweepSchedule
  GRANTGUARD_SWEEP_RUNS_TABLE: 'sweepRuns'
  GRANTGUARD_SWEEP_CONTAINER: sweepContainer
  GRANTGUARD_SWEEP_SHARD_ASSIGNMENTS: '10000'
  GRANTGUARD_SWEEP_LOOKBACK_DAYS: '90'
  // Webhook URLs and the signing secret carry credentials: Key Vault references only.
  GRANTGUARD_TEAMS_WEBHOOK_URL: empty(teamsWebhookUrl) ? '' : '${kvRef}teams-webhook-url)'
  GRANTGUARD_SLACK_WEBHOOK_URL: empty(slackWebhookUrl) ? '' : '${kvRef}slack-webhook-url)'
  GRANTGUARD_WEBHOOK_URL: empty(webhookUrl) ? '' : '${kvRef}webhook-url)'
  GRANTGUARD_WEBHOOK_SECRET: empty(webhookSecret) ? '' : '${kvRef}webhook-secret)'
}

resource site 'Microsoft.Web/sites@2024-04-01' = {
  name: functionAppName
  location: location
  tags: union(tags, { 'azd-service-name': 'grantguard' })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: { '${identity.id}': {} }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    keyVaultReferenceIdentity: identity.id
    siteConfig: {
      minTlsVersion: '1.2'
      ftpsState: 'Disabled'
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storage.properties.primaryEndpoints.blob}${deploymentContainer}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identity.id
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: 40
        instanceMemoryMB: 2048
      }
      runtime: { name: 'node', version: '22' }
    }
  }
  resource appsettings 'config' = {
    name: 'appsettings'
    // An empty value would be read as set-but-invalid: only the settings with a value are written.
    properties: union(hostSettings, toObject(filter(items(grantguardSettings), s => !empty(s.value)), s => s.key, s => s.value))
  }
  dependsOn: [storageBlobOwner, storageQueue, storageTable, secretsUser]
}

// ---- the identity's rights on grantguard's own resources (names are guid(): redeploys are idempotent)

resource storageBlobOwner 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, identity.id, roles.storageBlobDataOwner)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataOwner)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
    description: 'grantguard: host storage, deployment package, audit trail, dead letters'
  }
}

resource storageQueue 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, identity.id, roles.storageQueueDataContributor)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageQueueDataContributor)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
    description: 'grantguard: sweep shards and host queues'
  }
}

resource storageTable 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, identity.id, roles.storageTableDataContributor)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageTableDataContributor)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
    description: 'grantguard: findings, events, alerts, revocations'
  }
}

resource operatorTableReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(operatorPrincipalId)) {
  name: guid(storage.id, operatorPrincipalId, roles.storageTableDataReader)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageTableDataReader)
    principalId: operatorPrincipalId
    principalType: operatorPrincipalType
    description: 'grantguard command line: read findings, revocations, alerts'
  }
}

resource metricsPublisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(insights.id, identity.id, roles.monitoringMetricsPublisher)
  scope: insights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.monitoringMetricsPublisher)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
    description: 'grantguard: telemetry with Entra ID authentication'
  }
}

resource workspaceReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (empty(existingLogAnalyticsWorkspaceId)) {
  name: guid(workspaceResourceId, identity.id, roles.logAnalyticsReader)
  scope: newWorkspace
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.logAnalyticsReader)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
    description: 'grantguard: sign-ins and activity for the sweep'
  }
}

resource secretsUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, identity.id, roles.keyVaultSecretsUser)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultSecretsUser)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
    description: 'grantguard: resolve the webhook Key Vault references'
  }
}

resource cryptoUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(signingKey.id, identity.id, roles.keyVaultCryptoUser)
  scope: signingKey
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultCryptoUser)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
    description: 'grantguard: sign the audit trail digests with this key only'
  }
}

output functionAppId string = site.id
output functionAppName string = site.name
output identityId string = identity.id
output identityPrincipalId string = identity.properties.principalId
output identityClientId string = identity.properties.clientId
output storageAccountId string = storage.id
output deadLetterContainer string = deadLetterContainer
