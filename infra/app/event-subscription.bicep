// One subscription's system topic (Microsoft.Resources.Subscriptions, location global) and its
// event subscription to grantguard's Event Grid–triggered function.
param functionAppId string
param identityId string
param storageAccountId string
param deadLetterContainer string
param tags object

resource systemTopic 'Microsoft.EventGrid/systemTopics@2025-02-15' = {
  name: 'grantguard-${subscription().subscriptionId}'
  location: 'global'
  tags: tags
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: { '${identityId}': {} }
  }
  properties: {
    source: subscription().id
    topicType: 'Microsoft.Resources.Subscriptions'
  }
}

resource judge 'Microsoft.EventGrid/systemTopics/eventSubscriptions@2025-02-15' = {
  parent: systemTopic
  name: 'grantguard-judge-grant-event'
  properties: {
    eventDeliverySchema: 'EventGridSchema'
    destination: {
      endpointType: 'AzureFunction'
      properties: {
        resourceId: '${functionAppId}/functions/judgeGrantEvent'
        // One event per invocation: a failed judgement is retried alone, never with its batch.
        maxEventsPerBatch: 1
        preferredBatchSizeInKilobytes: 64
      }
    }
    filter: {
      includedEventTypes: [
        'Microsoft.Resources.ResourceWriteSuccess'
        'Microsoft.Resources.ResourceDeleteSuccess'
      ]
      advancedFilters: [
        {
          operatorType: 'StringIn'
          key: 'data.operationName'
          values: [
            'Microsoft.Authorization/roleAssignments/write'
            'Microsoft.Authorization/roleAssignments/delete'
          ]
        }
      ]
    }
    retryPolicy: {
      maxDeliveryAttempts: 30
      eventTimeToLiveInMinutes: 1440
    }
    deadLetterWithResourceIdentity: {
      identity: {
        type: 'UserAssigned'
        userAssignedIdentity: identityId
      }
      deadLetterDestination: {
        endpointType: 'StorageBlob'
        properties: {
          resourceId: storageAccountId
          blobContainerName: deadLetterContainer
        }
      }
    }
  }
}

output systemTopicId string = systemTopic.id
