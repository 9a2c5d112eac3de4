// The role-assignment events of one watched subscription, delivered to judgeGrantEvent. Deployed
// by infra/scripts/subscribe-events.sh (azd postdeploy) once per watched subscription, after the
// code: Event Grid validates an AzureFunction destination against the deployed function.
targetScope = 'subscription'

@description('Resource group in this subscription that holds the system topic (created if absent).')
param resourceGroupName string
param location string
@description('Resource id of grantguard\'s function app.')
param functionAppId string
@description('Resource id of grantguard\'s user-assigned identity: the topic writes dead letters with it.')
param identityId string
@description('Resource id of grantguard\'s storage account and the container for undeliverable events.')
param storageAccountId string
param deadLetterContainer string
param tags object = {}

resource group 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: resourceGroupName
  location: location
  tags: tags
}

module topic 'app/event-subscription.bicep' = {
  name: 'grantguard-events-${subscription().subscriptionId}'
  scope: group
  params: {
    functionAppId: functionAppId
    identityId: identityId
    storageAccountId: storageAccountId
    deadLetterContainer: deadLetterContainer
    tags: tags
  }
}

output systemTopicId string = topic.outputs.systemTopicId
