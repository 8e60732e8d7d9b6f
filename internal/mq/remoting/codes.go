package remoting

// Request codes (RocketMQ RequestCode) used by binlake.
const (
	CodeSendMessage          int16 = 10
	CodePullMessage          int16 = 11
	CodeQueryConsumerOffset  int16 = 14
	CodeUpdateConsumerOffset int16 = 15
	CodeUpdateAndCreateTopic int16 = 17
	CodeGetAllTopicConfig    int16 = 21
	CodeGetMaxOffset         int16 = 30
	CodeGetMinOffset         int16 = 31
	CodeGetRouteInfoByTopic  int16 = 105
	CodeGetBrokerClusterInfo int16 = 106
	CodeSendBatchMessage     int16 = 320
	CodeGetTopicConfig       int16 = 351
)

// Response codes (RocketMQ ResponseCode) used by binlake.
const (
	RespSuccess            int16 = 0
	RespSystemError        int16 = 1
	RespSystemBusy         int16 = 2
	RespFlushDiskTimeout   int16 = 10
	RespSlaveNotAvailable  int16 = 11
	RespFlushSlaveTimeout  int16 = 12
	RespServiceUnavailable int16 = 14
	RespNoPermission       int16 = 16
	RespTopicNotExist      int16 = 17
	RespPullNotFound       int16 = 19
	RespPullRetryNow       int16 = 20
	RespPullOffsetMoved    int16 = 21
	RespQueryNotFound      int16 = 22
)
