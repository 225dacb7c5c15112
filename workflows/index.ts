export { contactChange } from './contact-change';
export { contactMove } from './contact-move';
export { webhookDelivery } from './webhook-delivery';
